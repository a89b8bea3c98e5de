// Sharing an experiment, as TensorFlow Playground does: the model's code, the dataset
// and the training settings, in a link or in a small JSON file. A teacher hands out an
// exercise; a student sends back what they tried; opening it restores it (app.js).
//
// The link carries everything in its fragment, `#x=<data>`, which browsers never send
// to the server: <data> is the experiment as JSON, deflated (CompressionStream) and
// written in base64url. The file is the same JSON, readable:
//
//   {"format": "webgrad-experiment", "version": 1, "dataset": "mnist", "model": "mlp",
//    "code": "...", "settings": {"optimizer": "nesterov", "lr": 0.1, ...}}
//
// "model" is the preset the code came from, or "custom". Settings the page does not
// know (from a newer version) are passed on and ignored there.

export const FORMAT = "webgrad-experiment";
export const VERSION = 1;
export const LONG_LINK = 4000;    // characters; some mail and chat tools cut longer links
const MAX_CODE = 200000;          // characters of model code: a file, not a novel

export class ExperimentError extends Error {}

export function experimentOf(webgrad) {
  return {format: FORMAT, version: VERSION, dataset: webgrad.dataset, model: webgrad.model,
          code: webgrad.code(), settings: {...webgrad.settings}};
}

// Check what a link or a file holds; the error names the field that is wrong.
export function checkExperiment(value, where) {
  const fail = (what) => { throw new ExperimentError(`${where}: ${what}`); };
  if (!value || typeof value !== "object" || Array.isArray(value)) fail("not a JSON object");
  if (value.format !== FORMAT) fail(`"format" is ${JSON.stringify(value.format)}, not "${FORMAT}"`);
  if (!Number.isInteger(value.version) || value.version > VERSION) {
    fail(`"version" ${JSON.stringify(value.version)} is not one this page reads (1 to ${VERSION})`);
  }
  if (typeof value.code !== "string" || !value.code.trim()) fail('"code" must be the model code (a string)');
  if (value.code.length > MAX_CODE) fail(`"code" is ${value.code.length} characters, more than ${MAX_CODE}`);
  if (typeof value.dataset !== "string") fail('"dataset" must be a dataset name such as "mnist"');
  const s = value.settings;
  if (!s || typeof s !== "object" || Array.isArray(s)) fail('"settings" must be an object');
  for (const [key, v] of Object.entries(s)) {
    if (!["number", "string", "boolean"].includes(typeof v)) fail(`settings.${key} is not a number, string or true/false`);
  }
  return {format: FORMAT, version: value.version, dataset: value.dataset,
          model: typeof value.model === "string" ? value.model : "custom",
          code: value.code, settings: {...s}};
}

// ---- the link ------------------------------------------------------------------------

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

function toBase64url(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export async function encodeExperiment(experiment) {
  const json = new TextEncoder().encode(JSON.stringify(experiment));
  return toBase64url(await pipe(json, new CompressionStream("deflate-raw")));
}

export async function decodeExperiment(data) {
  const where = "the link's experiment (#x=…)";
  let json;
  try {
    json = new TextDecoder().decode(await pipe(fromBase64url(data), new DecompressionStream("deflate-raw")));
  } catch (err) {
    throw new ExperimentError(`${where}: cannot be unpacked (cut short when it was copied?)`);
  }
  try {
    return checkExperiment(JSON.parse(json), where);
  } catch (err) {
    if (err instanceof ExperimentError) throw err;
    throw new ExperimentError(`${where}: not valid JSON (${err.message})`);
  }
}

// The `x` of a fragment "#x=...", or null when the address holds no experiment.
export function fragmentData(hash) {
  const data = new URLSearchParams(hash.replace(/^#/, "")).get("x");
  return data || null;
}

export async function linkTo(experiment) {
  const here = new URL(location.href);
  here.hash = "";
  here.search = "";               // ?model=&dataset= would only be overridden
  return `${here.href}#x=${await encodeExperiment(experiment)}`;
}

// ---- the file --------------------------------------------------------------------------

export function downloadExperiment(experiment) {
  const blob = new Blob([JSON.stringify(experiment, null, 1) + "\n"], {type: "application/json"});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `webgrad-${experiment.model}-${experiment.dataset}.json`.replace(/[^A-Za-z0-9._-]/g, "_");
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export async function readExperimentFile(file) {
  const where = `the file ${file.name}`;
  let value;
  try {
    value = JSON.parse(await file.text());
  } catch (err) {
    throw new ExperimentError(`${where}: not valid JSON (${err.message})`);
  }
  return checkExperiment(value, where);
}

// ---- the controls --------------------------------------------------------------------

// Wire the Share / Download / Open buttons. `current()` gives the experiment on the page
// now, `restore(experiment, from)` puts one there, `say(text)` shows a line to the user.
export function wireSharing($, current, restore, say) {
  $("share").onclick = async () => {
    const link = await linkTo(current());
    window.webgrad.shareLink = link;
    $("share-box").hidden = false;
    $("share-link").value = link;
    $("share-link").focus();
    $("share-link").select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch (err) { /* no clipboard permission: the selected link is there to copy */ }
    say((copied ? `Link copied (${link.length.toLocaleString("en")} characters).`
                : "Copy the selected link (Ctrl+C).") +
        (link.length > LONG_LINK ? " It is long: some mail and chat tools cut long links; " +
                                   "Download experiment gives a small file to send instead." : ""));
  };
  $("download-experiment").onclick = () => {
    downloadExperiment(current());
    say("Downloaded the experiment as a JSON file; Open experiment… reads it back.");
  };
  $("open-experiment").onclick = () => $("experiment-file").click();
  $("experiment-file").onchange = async () => {
    const file = $("experiment-file").files[0];
    $("experiment-file").value = "";      // the same file again is a new choice
    if (!file) return;
    try {
      restore(await readExperimentFile(file), "file");
    } catch (err) {
      say(err.message);
    }
  };
}
