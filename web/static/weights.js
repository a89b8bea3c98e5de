// Download weights / Load weights: the model's state_dict as a .safetensors file
// (web/playground/weights.py writes and reads it in the worker). PyTorch's names, so
// `safetensors.torch.load_file` reads the file into the PyTorch twin of the network.
// What happened last is mirrored in `window.webgrad.weights`.

export class WeightsControls {
  // $: the page's getElementById; send(type, body, transfer): a message to the worker
  constructor($, send) {
    Object.assign(this, {$, send});
    this.state = window.webgrad.weights = {saved: null, savedBytes: 0, loaded: null, loads: 0,
                                           error: null, errors: 0};
    $("download-weights").onclick = () => {
      this.say("Saving the weights…");
      send("downloadWeights");
    };
    $("load-weights").onclick = () => $("weights-file").click();
    $("weights-file").onchange = async () => {
      const file = $("weights-file").files[0];
      $("weights-file").value = "";          // the same file again is a new choice
      if (!file) return;
      this.say(`Loading ${file.name}…`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      send("loadWeights", {bytes, name: file.name}, [bytes.buffer]);
    };
  }

  say(text, error = false) {
    const line = this.$("weights-message");
    line.textContent = text;
    line.classList.toggle("inline-error", error);
  }

  onMessage(msg) {
    switch (msg.type) {
      case "state": {
        const booted = ["ready", "running", "paused"].includes(msg.state);
        this.$("download-weights").disabled = !booted;
        this.$("load-weights").disabled = !booted;
        break;
      }
      case "weightsFile": this.download(msg.name, msg.bytes); break;
      case "weightsLoaded": this.onLoaded(msg.result); break;
    }
  }

  download(name, bytes) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], {type: "application/octet-stream"}));
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    Object.assign(this.state, {saved: name, savedBytes: bytes.byteLength});
    this.say(`Saved ${name} (${(bytes.byteLength / 1024).toFixed(0)} KiB, safetensors with ` +
             "PyTorch's names).");
  }

  onLoaded(result) {
    if (!result.ok) {
      Object.assign(this.state, {error: result.error.message, errors: this.state.errors + 1});
      this.say(`Not loaded, the model is unchanged: ${result.error.message}`, true);
      return;
    }
    Object.assign(this.state, {loaded: result.name, loads: this.state.loads + 1, error: null});
    this.say(`Loaded ${result.name}: the model has its weights (fresh optimizer state). ` +
             "Start trains on from them.");
  }
}
