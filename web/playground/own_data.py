"""Your own data in the page: a zip the student drops becomes a dataset choice.

Two calls from the worker, because the browser, not Python, decodes PNG and JPEG:

    read_archive(playground, path, name)  the zip's layout (engine.data.archive); for an image
                                          archive, every image file's bytes to decode
    add_images(playground, pixels)        the decoded grey pixels (28x28 each, in that order)
                                          -> the dataset, registered as "own"

An archive of IDX files needs no decoding: read_archive registers it at once. Either
way the dataset is Playground.datasets["own"], titled "Your data: <zip name>", with
the folders' names as class names; the next upload replaces it.
"""
from engine.data.archive import IMAGE_SIZE, ArchiveError, open_archive

NAME = "own"
_pending = {}      # the image archive waiting for its pixels


def read_archive(playground, path, name):
    try:
        archive = open_archive(path, name)
    except ArchiveError as err:
        return _failure(err)
    if archive.kind == "idx":
        return _register(playground, archive)
    _pending["archive"] = archive
    files = [{"member": m.path, "bytes": archive.read(m)} for m in archive.members]
    height, width = IMAGE_SIZE
    return {"ok": True, "kind": "images", "files": files, "height": height, "width": width,
            "classes": archive.classes}


def add_images(playground, pixels):
    archive = _pending.pop("archive", None)
    if archive is None:
        return _failure("no archive is waiting for its pixels: choose the zip again")
    return _register(playground, archive, pixels)


def _register(playground, archive, pixels=None):
    try:
        train, test = archive.image_sets(pixels)
    except ArchiveError as err:
        return _failure(err)
    playground.datasets[NAME] = {"title": f"Your data: {archive.name}", "train": train, "test": test}
    return {"ok": True, "kind": "ready", "info": playground.open_dataset(NAME, None)}


def _failure(err):
    return {"ok": False, "error": {"message": str(err), "line": None, "kind": "data"}}
