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
// A transparent background counts as white paper. The aspect ratio is kept, as natively
// (engine/data/png.py fit_grey): the longer side fills the square, the image is centred,
// and the bands left over take its background, the median of its border pixels.
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
    const [fitH, fitW] = fittedSize(bitmap.height, bitmap.width, height, width);
    const top = (height - fitH) >> 1, left = (width - fitW) >> 1;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, left, top, fitW, fitH);
    bitmap.close();
    const rgba = ctx.getImageData(left, top, fitW, fitH).data;
    const image = new Uint8Array(fitH * fitW);
    for (let p = 0; p < image.length; p++) {  // luma (ITU-R BT.601), as PIL's convert("L")
      image[p] = Math.round(0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]);
    }
    const gray = out.subarray(k * size, (k + 1) * size);
    gray.fill(borderMedian(image, fitH, fitW));
    for (let r = 0; r < fitH; r++) {
      gray.set(image.subarray(r * fitW, (r + 1) * fitW), (top + r) * width + left);
    }
  }
  return out;
}

// h x w scaled to fit inside height x width with its aspect ratio kept, rounded to the
// nearest pixel in integers (png.py fitted_size: the same numbers).
function fittedSize(h, w, height, width) {
  if (w * height >= h * width) return [Math.max(1, Math.floor((2 * h * width + w) / (2 * w))), width];
  return [height, Math.max(1, Math.floor((2 * w * height + h) / (2 * h)))];
}

// The median of an image's outermost pixels: its background (png.py border_median).
function borderMedian(image, h, w) {
  const border = [];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      if (r === 0 || r === h - 1 || c === 0 || c === w - 1) border.push(image[r * w + c]);
    }
  }
  border.sort((a, b) => a - b);
  return border[border.length >> 1];
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
