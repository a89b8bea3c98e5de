"""The results of a search as a table (best first) and its best configuration."""
import math


def ranked(results):
    """Best first: the highest validation accuracy, then the lowest validation loss;
    trials that diverged or failed come last, in trial order."""
    def key(r):
        finished = r["status"] == "ok" and math.isfinite(r["val_accuracy"])
        return (0, -r["val_accuracy"], r["val_loss"], r["trial"]) if finished else \
            (1, 0.0, 0.0, r["trial"])
    return sorted(results, key=key)


def best(results):
    """The best finished trial's result, or None when none finished."""
    first = ranked(results)[:1]
    return first[0] if first and first[0]["status"] == "ok" else None


def results_table(results):
    """A Markdown table, one row per trial, best first: readable in a terminal and
    ready to paste into notes."""
    names = []
    for r in results:
        names += [n for n in r["config"] if n not in names]
    header = ["rank", "trial", *names, "val accuracy", "val loss", "seconds"]
    rows = []
    for rank, r in enumerate(ranked(results), 1):
        scores = [f"{r['val_accuracy'] * 100:.2f}%", f"{r['val_loss']:.4f}"] \
            if r["status"] == "ok" else [r["status"], ""]
        rows.append([str(rank), str(r["trial"]), *(_value(r["config"].get(n)) for n in names),
                     *scores, _seconds(r["seconds"])])
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, rows)])


def describe_best(results):
    r = best(results)
    if r is None:
        return "best configuration: none (every trial diverged or failed)"
    settings = ", ".join(f"{k}={_value(v)}" for k, v in r["config"].items())
    return (f"best configuration: {settings} (trial {r['trial']}: validation accuracy "
            f"{r['val_accuracy'] * 100:.2f}%, loss {r['val_loss']:.4f})")


def _value(v):
    return "" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _seconds(s):
    return f"{s:.1f}" if math.isfinite(s) else ""
