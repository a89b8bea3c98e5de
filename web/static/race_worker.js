// The optimizer race, the worker's side (web/playground/race.py does the training).
//
// While a race runs the worker's loop calls slice() instead of training the page's
// model: each slice runs a few race steps (six optimizer steps on one batch each)
// sized to take about TARGET_MS, so the page's messages (Stop) still get through.
//
// Page -> worker                          Worker -> page
//   {type: "race", steps}                   {type: "raceStarted", race}    the optimizers and their settings
//   {type: "raceStop"}                      {type: "raceProgress", progress}  losses per step
//                                           {type: "raceResults", results} the final table
//                                           {type: "raceError", error}

const TARGET_MS = 300;
const MAX_STEPS = 20;

export class RaceRunner {
  // call(name, ...args): a playground function; post(type, body): a message to the page;
  // onEnd(): what the worker does when a race ends (say whether the page's model trains)
  constructor(call, post, onEnd) {
    Object.assign(this, {call, post, onEnd});
    this.active = false;
    this.stepsPerCall = 1;
  }

  async start(steps) {
    const race = await this.call("race_start", steps);
    if (!race.ok) {
      this.post("raceError", {error: race.error});
      return false;
    }
    this.active = true;
    this.stepsPerCall = 1;
    this.post("raceStarted", {race});
    return true;
  }

  async slice() {
    try {
      const t0 = performance.now();
      const progress = await this.call("race_run", this.stepsPerCall);
      const ms = (performance.now() - t0) / Math.max(1, progress.losses.length);
      this.stepsPerCall = Math.max(1, Math.min(MAX_STEPS, Math.round(TARGET_MS / Math.max(ms, 1))));
      this.post("raceProgress", {progress});
      if (progress.finished) await this.finish();
    } catch (err) {
      this.active = false;
      this.post("raceError", {error: {message: String(err && err.message || err), kind: "race"}});
      this.onEnd();
    }
  }

  async stop() {               // Stop: the table for the steps run so far
    if (this.active) await this.finish();
  }

  async finish() {
    this.active = false;
    this.post("status", {text: "Race over: testing the six networks…"});
    const results = await this.call("race_results");
    this.onEnd();              // the page's state first, then the table and its message
    this.post("raceResults", {results});
  }
}
