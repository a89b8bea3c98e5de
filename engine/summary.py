"""summary(model): a Keras-style table of layers and parameter counts."""


def summary(model, file=None):
    rows = [("layer", "type", "parameters")]
    total = 0
    for name, module in model.named_modules():
        if module._modules:  # containers: their children are listed instead
            continue
        count = sum(p.numel() for p in module._parameters.values() if p is not None)
        total += count
        rows.append((name or "(model)", type(module).__name__, f"{count:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
    rule = "-" * len(lines[0])
    text = "\n".join([lines[0], rule, *lines[1:], rule, f"total parameters: {total:,}"])
    print(text, file=file)
    return total
