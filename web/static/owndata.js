// Your own data: a zip of one folder per class (PNG, JPEG, ...) or of IDX files.
//
// Two halves, one per side of the worker boundary:
//   wireOwnData (the page): the file input and drag-and-drop; the zip's bytes go to the
//     worker as they are.
//   decodeGray (the worker): Python (web/playground/own_data.py, engine/data/archive.py)
//     reads the zip's layout and hands back each image file; the browser decodes it, which
//     Python in Pyodide cannot (no PIL), by drawing it scaled to the model's input size into
//     a canvas and reading the grey values back.

// Every image as height*width grey bytes (0 black .. 255 white), one after the other.
// A transparent background counts as white paper; a non-square image is stretched.
export async function decodeGray(files, archiveName, height, width) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.imageSmoothingQuality = "high";      // area-like averaging when shrinking
  const size = height * width;
  const out = new Uint8Array(files.length * size);
  for (const [k, file] of files.entries()) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(new Blob([file.bytes]));
    } catch (err) {
      throw new Error(`${archiveName}: cannot read the image ${file.member}: it is not a PNG, ` +
                      "JPEG, GIF, BMP or WebP file that this browser can decode");
    }
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, width, height).data;
    for (let p = 0; p < size; p++) {       // luma (ITU-R BT.601), as PIL's convert("L")
      out[k * size + p] = Math.round(0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]);
    }
  }
  return out;
}

// The page's half: choosing or dropping a zip sends it to the worker ({type: "owndata"}).
export function wireOwnData($, send, say) {
  const input = $("owndata-file");
  const open = async (file) => {
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    say(`Reading ${file.name}…`, false);
    send("owndata", {name: file.name, bytes}, [bytes.buffer]);
  };
  input.onchange = async () => {
    await open(input.files[0]);
    input.value = "";                      // choosing the same file again is a new choice
  };
  const zone = $("owndata");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    if (!input.disabled) open(e.dataTransfer.files[0]);
  });
}

// The worker's half: the zip (bytes) -> the dataset "own" in Python, or null after posting
// {type: "ownDataError", message} that names what is wrong with it.
export async function openOwnData({call, post, status, FS}, name, bytes) {
  FS.mkdirTree("/owndata");
  const path = "/owndata/archive.zip";
  FS.writeFile(path, bytes);
  status(`Reading ${name}…`);
  let result = await call("read_archive", path, name);
  if (result.ok && result.kind === "images") {
    status(`Decoding ${result.files.length} images of ${name}…`);
    let pixels;
    try {
      pixels = await decodeGray(result.files, name, result.height, result.width);
    } catch (err) {
      result = {ok: false, error: {message: err.message}};
    }
    if (pixels) result = await call("add_archive_images", pixels);
  }
  FS.unlink(path);
  if (!result.ok) {
    post("ownDataError", {message: result.error.message});
    status(`${name} cannot be used (see the message under Your data).`);
    return null;
  }
  return result.info;
}
