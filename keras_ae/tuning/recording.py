"""Trial events: every tuner process appends what it ran to ``out/events/<tuner_id>.jsonl``.

Each line is a JSON object: ``{"event": "start" | "end" | "completed", "trial_id", "tuner_id", "pid", "time", ...}``;
``end`` adds ``seconds`` and ``epochs``; ``completed`` is written once the oracle has recorded the trial's result
(after that point a killed job never runs the trial again). One file per process, so workers never interleave.
"""

import json
import os
import time


def append_event(events_dir, tuner_id, event, trial_id, **fields):
    os.makedirs(events_dir, exist_ok=True)
    record = {"event": event, "trial_id": str(trial_id), "tuner_id": tuner_id, "pid": os.getpid(),
              "time": time.time(), **fields}
    with open(os.path.join(events_dir, f"{tuner_id}.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_events(events_dir):
    """All events of all processes, in time order (a line cut by a kill is skipped)."""
    events = []
    if not os.path.isdir(events_dir):
        return events
    for name in sorted(os.listdir(events_dir)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(events_dir, name)) as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return sorted(events, key=lambda e: e["time"])


def _epochs(result):
    first = result[0] if isinstance(result, list) and result else result
    history = getattr(first, "history", None)
    if isinstance(history, dict) and history:
        return max(len(v) for v in history.values())
    return None


def recording_tuner_class(base):
    """A subclass of the KerasTuner class ``base`` that records trial events."""

    class Recording(base):
        def __init__(self, *args, events_dir, **kwargs):
            self.events_dir = events_dir
            super().__init__(*args, **kwargs)

        def run_trial(self, trial, *args, **kwargs):
            append_event(self.events_dir, self.tuner_id, "start", trial.trial_id)
            start = time.perf_counter()
            result = super().run_trial(trial, *args, **kwargs)
            append_event(self.events_dir, self.tuner_id, "end", trial.trial_id,
                         seconds=round(time.perf_counter() - start, 3), epochs=_epochs(result))
            return result

        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            # KerasTuner imports tensorboard on the TF backend even when no TensorBoard callback is used;
            # tensorboard is not a dependency of keras_ae, so only do so when such a callback is there.
            if any(type(c).__name__ == "TensorBoard" for c in callbacks):
                super()._configure_tensorboard_dir(callbacks, trial, execution)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            append_event(self.events_dir, self.tuner_id, "completed", trial.trial_id, status=str(trial.status))

    Recording.__name__ = Recording.__qualname__ = f"Recording{base.__name__}"
    return Recording
