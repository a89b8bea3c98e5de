"""The webgrad playground server: one page that trains networks in the browser.

    python server.py [--host 127.0.0.1] [--port 8000]    # then open http://127.0.0.1:8000/

It serves only static things; all the training happens in the browser tab
(Pyodide in a Web Worker, kernels on WebGPU):

    /                      the page (web/templates/index.html)
    /static/...            the page's JS/CSS and playground.py (web/static/)
    /pyodide/...           Pyodide itself, from the npm package (web/node_modules/pyodide/)
    /vendor/chart.js       Chart.js's UMD build (web/node_modules/chart.js/)
    /engine.zip            engine/**/*.py + shaders/*.wgsl, zipped at startup from this
                           checkout, so the browser runs the very same engine source
    /data/<set>/<file>     the IDX files of a dataset in data/<set>/ (e.g. data/mnist/)

`bash scripts/setup.sh` installs the npm packages and fetches MNIST.
"""
import argparse
import io
import json
import mimetypes
import os
import re
import sys
import zipfile

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

ROOT = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.join(ROOT, "web")
NODE_MODULES = os.path.join(WEB, "node_modules")
PYODIDE_DIR = os.path.join(NODE_MODULES, "pyodide")
CHART_JS = os.path.join(NODE_MODULES, "chart.js", "dist", "chart.umd.min.js")
DATA_DIR = os.path.join(ROOT, "data")

# Browsers refuse to compile WebAssembly streamed with another type, and module
# scripts need a JavaScript type: never leave these to the host's mime.types.
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")

# The only files /data/ hands out: IDX files, optionally gzipped.
IDX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*-ubyte(\.gz)?$")
DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class SetupError(RuntimeError):
    pass


def check_setup():
    """Fail early, and say what to run, when the npm packages are not installed."""
    missing = [p for p in (os.path.join(PYODIDE_DIR, "pyodide.asm.wasm"),
                           os.path.join(PYODIDE_DIR, "pyodide.mjs"), CHART_JS)
               if not os.path.isfile(p)]
    if missing:
        raise SetupError("webgrad server: missing " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
                         + "\n  run `bash scripts/setup.sh` (it runs `npm ci` in web/) and try again.")


def build_engine_zip():
    """engine/**/*.py and shaders/*.wgsl at their repository paths, as zip bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for top, suffix in (("engine", ".py"), ("shaders", ".wgsl")):
            for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    if name.endswith(suffix):
                        path = os.path.join(dirpath, name)
                        zf.write(path, os.path.relpath(path, ROOT).replace(os.sep, "/"))
    return buf.getvalue()


def create_app():
    check_setup()
    templates = Jinja2Templates(directory=os.path.join(WEB, "templates"))
    engine_zip = build_engine_zip()
    with open(os.path.join(PYODIDE_DIR, "package.json"), encoding="utf-8") as f:
        page = {"pyodide_version": json.load(f)["version"]}

    async def index(request):
        return templates.TemplateResponse(request, "index.html", page)

    async def engine(request):
        return Response(engine_zip, media_type="application/zip",
                        headers={"Cache-Control": "no-cache"})

    async def chart_js(request):
        return FileResponse(CHART_JS, media_type="text/javascript")

    async def data(request):
        dataset, name = request.path_params["dataset"], request.path_params["name"]
        if not (DATASET_NAME.match(dataset) and IDX_NAME.match(name)):
            raise HTTPException(404)
        path = os.path.realpath(os.path.join(DATA_DIR, dataset, name))
        root = os.path.realpath(DATA_DIR)
        if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
            raise HTTPException(404)  # absent, or a symlink that leads out of data/
        return FileResponse(path, media_type="application/octet-stream")

    routes = [
        Route("/", index),
        Route("/engine.zip", engine),
        Route("/vendor/chart.js", chart_js),
        Route("/data/{dataset}/{name}", data),
        Mount("/static", StaticFiles(directory=os.path.join(WEB, "static")), name="static"),
        Mount("/pyodide", StaticFiles(directory=PYODIDE_DIR), name="pyodide"),
    ]
    return Starlette(routes=routes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        app = create_app()
    except SetupError as err:
        sys.exit(str(err))
    import uvicorn
    print(f"webgrad playground: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
