"""Recording a step's dispatches, and replaying them (engine/replay.py is the user's side).

While a step is recorded, the runtime dispatches as usual and also keeps, for each
dispatch, its pipeline, bind group and workgroup counts. A replay encodes that
list again, in one command buffer, without running any of the Python that made
it. For that to be right:

- every buffer a recorded dispatch binds stays the recording's (its GPUArray is
  held here, so it never goes back to the pool for other tensors), and so does
  every uniform buffer (kept out of the uniform cache's eviction);
- the uniforms whose numbers change per step are "slots" that host code rewrites
  before each replay (`hooks`, run in "uniforms only" mode: the launchers pack and
  write their uniforms but dispatch nothing);
- nothing in the step crosses between host and device: an upload or a read-back
  while recording marks the recording `refused`, and the step runs eagerly.
"""
import contextlib
import os
import traceback

_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Recording:
    """The dispatches of one recorded step, and what keeps them valid."""

    def __init__(self, backend):
        self.backend = backend
        self.dispatches = []   # (pipeline, bind_group, (x, y, z) workgroups), in order
        self.arrays = []       # the GPUArrays they bind: held, so never reused elsewhere
        self.uniforms = set()  # serials of the uniform buffers they bind: never evicted
        self.hooks = []        # host code to run before each replay (engine.replay.on_replay)
        self.refused = None    # why this step cannot be replayed, if it cannot
        self.prepared = None   # the dispatch list in the GPU API's own terms
        self.inputs = self.output = None   # set by engine.replay.jit

    def add(self, pipeline, bind_group, groups, arrays, uniform_serial):
        self.dispatches.append((pipeline, bind_group, groups))
        self.arrays.extend(arrays)
        self.uniforms.add(uniform_serial)

    def refuse(self, what):
        if self.refused is None:
            self.refused = f"{what} inside the step, at {_user_frame()}"

    def close(self):
        """Give the pinned buffers back (the recording will not be replayed again)."""
        self.backend._unpin(self.uniforms)
        self.dispatches, self.arrays, self.uniforms, self.prepared = [], [], set(), None


class Replaying:
    """The runtime's side of record and replay (a mixin of runtime.GPURuntime)."""

    can_replay = True

    def _init_replaying(self):
        self._capture = None            # the Recording being made, if a step is recorded
        self._uniforms_only = False     # a replay's host work: write slots, dispatch nothing
        self._pinned = set()            # serials of uniform buffers recordings bind
        self._orphans = Orphans()       # ... evicted from the caches, kept for them

    def begin_capture(self):
        if self._capture is not None:
            raise RuntimeError("a step is already being recorded: engine.jit steps do not nest")
        self.flush()   # what came before is not part of the step
        self._capture = Recording(self)
        return self._capture

    def end_capture(self, recording):
        self._capture = None
        self._pinned |= recording.uniforms
        if recording.refused is None:
            recording.prepared = self._prepare_replay(recording.dispatches)

    def replay(self, recording, copies):
        """Run a recorded step again: its hooks rewrite the per-step uniforms, then one
        command buffer copies the new inputs in (copies: [(source, recorded input)]) and
        repeats every dispatch."""
        self.flush()   # earlier work first: the hooks' uniform writes must land after it
        with self.uniforms_only():
            for hook in recording.hooks:
                hook()
        self._replay([(src.handle, dst.handle, -(-src.nbytes // 4) * 4) for src, dst in copies],
                     recording.prepared)
        self._count_submit()

    @contextlib.contextmanager
    def uniforms_only(self):
        """Inside this block launchers only write their slot uniforms; nothing is
        dispatched (a replay's host work: the recording has the dispatches)."""
        previous, self._uniforms_only = self._uniforms_only, True
        try:
            yield
        finally:
            self._uniforms_only = previous

    def _evict(self, handle, serial):
        """A uniform buffer leaves a cache: destroyed after the next submit, unless a
        recording still binds it."""
        if serial in self._pinned:
            self._orphans[serial] = handle
        else:
            self._graveyard.append(handle)

    def _unpin(self, serials):
        self._pinned -= serials
        cached = {serial for _, serial in self._uniforms.values()}
        cached |= {entry[1] for entry in self._slots.values()}
        for handle, serial in self._orphans.pop_many(serials - cached):
            self._graveyard.append(handle)


class Orphans(dict):
    """Uniform buffers evicted from the caches while a recording still bound them:
    serial -> handle, destroyed when no recording needs them any more."""

    def pop_many(self, serials):
        return [(self.pop(s), s) for s in list(serials) if s in self]


def _user_frame():
    """'file.py:line' of the innermost caller outside the engine, for the reason line."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(_ENGINE_DIR):
            return f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return "?"
