// The data for the bench pages: the IDX files the playground's server lists at
// /datasets.json and serves (gzipped) at /data/<name>/<file>, the same files the
// playground trains on. The browser decompresses them itself (DecompressionStream).

async function readIdx(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const body = url.endsWith(".gz")
    ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
  const bytes = new Uint8Array(await new Response(body).arrayBuffer());
  // IDX: 0x00 0x00, type 0x08 (unsigned byte), the number of dimensions, then each size
  // as a big-endian uint32, then the data
  const view = new DataView(bytes.buffer);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) throw new Error(`${url}: not an IDX file of bytes`);
  const dims = Array.from({length: bytes[3]}, (_, i) => view.getUint32(4 + 4 * i));
  return {dims, data: bytes.subarray(4 + 4 * dims.length)};
}

// {train: {images, labels, count}, test: {...}, pixels: 784, mean, std}, pixels as bytes
export async function loadDataset(name) {
  const listing = await (await fetch("/datasets.json")).json();
  const entry = listing.find((d) => d.name === name);
  if (!entry) throw new Error(`the server has no dataset ${name}: ${listing.map((d) => d.name)}`);
  const read = (prefix) => {
    const file = entry.files.find((f) => f.startsWith(prefix));
    if (!file) throw new Error(`${name} has no ${prefix} file: ${entry.files}`);
    return readIdx(`/data/${name}/${file}`);
  };
  const [trainX, trainY, testX, testY] = await Promise.all(
    ["train-images", "train-labels", "t10k-images", "t10k-labels"].map(read));
  const pixels = trainX.dims[1] * trainX.dims[2];
  // normalised as the engine's DataLoader does: (pixel/255 - mean) / std of the training set
  let sum = 0, sumSq = 0;
  for (const p of trainX.data) { sum += p; sumSq += p * p; }
  const n = trainX.data.length;
  const mean = sum / n / 255, std = Math.sqrt(sumSq / n / 65025 - mean * mean);
  return {
    train: {images: trainX.data, labels: trainY.data, count: trainX.dims[0]},
    test: {images: testX.data, labels: testY.data, count: testX.dims[0]},
    pixels, mean, std,
  };
}

// A seeded shuffler (mulberry32), so every run sees the same batches.
function random(seed) {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Batches of `size` example indices drawn without replacement, reshuffled each epoch:
// next() -> Int32Array(size). The playground's DataLoader draws its batches the same way.
export function indexBatches(count, size, seed = 0) {
  const order = Int32Array.from({length: count}, (_, i) => i);
  const rand = random(seed);
  let at = count;
  return {
    next() {
      if (at + size > count) {          // a new epoch: Fisher-Yates
        for (let i = count - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        at = 0;
      }
      at += size;
      return order.slice(at - size, at);
    },
  };
}

// The images at `indices` of a split as normalised floats, one row of `pixels` each.
export function normalise(data, split, indices) {
  const {pixels, mean, std} = data;
  const images = data[split].images;
  const scale = 1 / (255 * std), shift = -mean / std;
  const x = new Float32Array(indices.length * pixels);
  indices.forEach((k, b) => {
    for (let p = 0; p < pixels; p++) x[b * pixels + p] = images[k * pixels + p] * scale + shift;
  });
  return x;
}
