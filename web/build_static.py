"""The playground as a folder of plain files, for any static https host.

    python server.py --build-static site/      (or: python -m web.build_static site/)

The page trains in the browser; the server only hands out files. This writes every
file server.py would hand out, so that GitHub Pages, GitLab Pages, Netlify, a
university web space or `python -m http.server` can serve the page instead:

    index.html                   the page, rendered with relative URLs ("./static/...")
                                 so that it works in any folder, not only at a host's root
    static/                      the page's JS and CSS (web/static/)
    vendor/chart.js              Chart.js
    vendor/npm/<pkg>/...         the editor's ES modules (CodeMirror and what it imports)
    pyodide/                     Pyodide (web/node_modules/pyodide/, less its source maps)
    engine.zip                   engine/, shaders/ and web/playground/, as server.py zips them
    datasets.json, data/<set>/   the datasets of this checkout and their IDX files

WebGPU needs a secure context: put the folder on an https host (docs/HOSTING.md).
"""
import json
import os
import shutil
import sys

import jinja2

# The folder holding server.py, when this runs as `python web/build_static.py`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import server  # noqa: E402

SKIP_PYODIDE = (".map", ".d.ts", ".html", ".md")   # source maps, typings, demo consoles


class BuildError(server.SetupError):
    pass


def build_static(out_dir):
    """Write the static site into out_dir (created, or emptied of a previous build)."""
    server.check_setup()
    out_dir = os.path.abspath(out_dir)
    _prepare(out_dir)
    modules = server.npm_modules(server.EDITOR_PACKAGES)
    from engine.data import available_datasets
    datasets = available_datasets()
    if not datasets:
        raise BuildError("webgrad build: this checkout has no datasets; run `bash scripts/setup.sh`")

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(server.WEB, "templates")),
                             autoescape=True)
    html = env.get_template("index.html").render(**server.page_context(modules, root="./"))
    _write(out_dir, "index.html", html.encode("utf-8"))
    _write(out_dir, "engine.zip", server.build_engine_zip())
    _write(out_dir, "datasets.json", json.dumps(server.dataset_listing(datasets), indent=1).encode())
    for name, info in datasets.items():
        for file in info["files"].values():
            _copy(os.path.join(info["folder"], file), out_dir, f"data/{name}/{file}")

    shutil.copytree(os.path.join(server.WEB, "static"), os.path.join(out_dir, "static"))
    _copy(server.CHART_JS, out_dir, "vendor/chart.js")
    for package in modules:
        source = os.path.join(server.NODE_MODULES, *package.split("/"))
        shutil.copytree(source, os.path.join(out_dir, "vendor", "npm", *package.split("/")),
                        ignore=_only_modules, dirs_exist_ok=True)
    shutil.copytree(server.PYODIDE_DIR, os.path.join(out_dir, "pyodide"),
                    ignore=lambda folder, names: [n for n in names if n.endswith(SKIP_PYODIDE)])
    return out_dir


def _prepare(out_dir):
    """An empty folder, or one this command wrote before: never wipe anything else."""
    if os.path.exists(out_dir):
        if not os.path.isdir(out_dir):
            raise BuildError(f"webgrad build: {out_dir} exists and is not a folder")
        entries = set(os.listdir(out_dir))
        ours = {"index.html", "engine.zip", "datasets.json", "data", "static", "vendor", "pyodide"}
        if entries - ours or (entries and "engine.zip" not in entries):
            raise BuildError(f"webgrad build: {out_dir} holds other files; give an empty or new folder")
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)


def _only_modules(folder, names):
    """What copytree leaves out of an npm package: all but the .js/.mjs files the npm
    route serves (and the folders that hold them)."""
    return [n for n in names
            if not os.path.isdir(os.path.join(folder, n)) and not n.endswith((".js", ".mjs"))]


def _write(out_dir, relative, data):
    path = os.path.join(out_dir, *relative.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _copy(source, out_dir, relative):
    path = os.path.join(out_dir, *relative.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copyfile(source, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.exit("usage: python -m web.build_static OUT_DIR")
    try:
        out = build_static(argv[0])
    except server.SetupError as err:
        sys.exit(str(err))
    print(f"webgrad playground: static site in {out} (serve it over https; see docs/HOSTING.md)")


if __name__ == "__main__":
    main()
