"""The page's weights as a .safetensors file, and a .safetensors file into the page's model.

The file is engine.serialize's: a JSON header and raw float32 bytes, with the
model's state_dict names, which are PyTorch's (0.weight, 3.bias, ...). So a file
the page saves loads into the PyTorch twin of its network with
`safetensors.torch.load_file`, and into webgrad natively with `serialize.load`;
and a file trained natively loads into the page to continue training.

Pyodide has a file system in memory: serialize writes and reads there, and the
worker moves the bytes to and from the page.
"""
import os
import re
import tempfile

from engine import serialize


def to_safetensors(model, name):
    """-> (file name, bytes) of `model`'s state_dict in the safetensors format."""
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "weights.safetensors")
    try:
        serialize.save(model.state_dict(), path)
        with open(path, "rb") as f:
            data = f.read()
    finally:
        if os.path.exists(path):
            os.remove(path)
        os.rmdir(folder)
    return f"{_safe(name)}.safetensors", data


def load_safetensors(model, data, file_name="weights.safetensors"):
    """Load safetensors bytes into `model`. Raises ValueError / KeyError / TypeError naming
    the file and the tensor that does not fit; then the model is left as it was
    (serialize.load and load_state_dict check everything before they copy)."""
    file_name = os.path.basename(str(file_name)) or "weights.safetensors"
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, file_name)
    try:
        with open(path, "wb") as f:
            f.write(data)
        try:
            state = serialize.load(path)
            state.path = file_name
            model.load_state_dict(state)
        except (ValueError, KeyError, TypeError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            raise type(err)(str(message).replace(path, file_name)) from None
    finally:
        os.remove(path)
        os.rmdir(folder)
    return model


def _safe(name):
    """A file name from a model and dataset name: letters, digits, '-', '_' and '.'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "weights"
