"""The webgrad playground server: one page that trains networks in the browser.

    python server.py [--host 127.0.0.1] [--port 8000]    # then open http://127.0.0.1:8000/
    python server.py --host 0.0.0.0 --certfile cert.pem --keyfile key.pem   # https, for a class
    python server.py --build-static site/   # the same page as plain files, for any https host

WebGPU exists only in a secure context: https, or http from localhost. Students on
other machines therefore need https: --certfile/--keyfile, or the static build on an
https host (docs/HOSTING.md).

It serves only static things; all the training happens in the browser tab
(Pyodide in a Web Worker, kernels on WebGPU):

    /                      the page (web/templates/index.html), with an import map for
                           the editor's ES modules
    /static/...            the page's JS and CSS (web/static/)
    /pyodide/...           Pyodide itself, from the npm package (web/node_modules/pyodide/)
    /vendor/chart.js       Chart.js's UMD build (web/node_modules/chart.js/)
    /vendor/npm/<pkg>/...  CodeMirror 6 and the packages it imports, as ES modules
    /engine.zip            engine/**/*.py, shaders/**/*.wgsl and the page's Python
                           (web/playground/ as playground/), zipped at startup from this
                           checkout, so the browser runs the very same engine source
    /datasets.json         the datasets this server has: name, title, classes, files
    /data/<set>/<file>     the IDX files of one of them

`bash scripts/setup.sh` installs the npm packages and fetches the datasets.
"""
import argparse
import io
import json
import mimetypes
import os
import re
import ssl
import sys
import zipfile

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

ROOT = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.join(ROOT, "web")
NODE_MODULES = os.path.join(WEB, "node_modules")
PYODIDE_DIR = os.path.join(NODE_MODULES, "pyodide")
CHART_JS = os.path.join(NODE_MODULES, "chart.js", "dist", "chart.umd.min.js")
# The editor: CodeMirror 6 and Python highlighting. The browser loads them as ES modules
# straight from node_modules; the import map names the file each package's `import` means.
EDITOR_PACKAGES = ("codemirror", "@codemirror/lang-python")
# What goes into /engine.zip: (folder in this checkout, suffix, folder in the zip)
ENGINE_SOURCES = (("engine", ".py", "engine"), ("shaders", ".wgsl", "shaders"),
                  (os.path.join("web", "playground"), ".py", "playground"))

# Browsers refuse to compile WebAssembly streamed with another type, and module
# scripts need a JavaScript type: never leave these to the host's mime.types.
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")

# The only files /data/ hands out: IDX files, optionally gzipped.
IDX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*-ubyte(\.gz)?$")


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
    """engine/, shaders/ and web/playground/ (as playground/), as zip bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for top, suffix, target in ENGINE_SOURCES:
            base = os.path.join(ROOT, top)
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    if name.endswith(suffix):
                        path = os.path.join(dirpath, name)
                        inside = os.path.relpath(path, base).replace(os.sep, "/")
                        zf.write(path, f"{target}/{inside}")
    return buf.getvalue()


def npm_modules(roots, node_modules=NODE_MODULES):
    """{package name: its ES-module entry file, relative to the package} for `roots` and
    everything they depend on, read from the installed packages' package.json files."""
    found, todo = {}, list(roots)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        meta_path = os.path.join(node_modules, *name.split("/"), "package.json")
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise SetupError(f"webgrad server: npm package {name} is missing ({meta_path})\n"
                             "  run `bash scripts/setup.sh` (it runs `npm ci` in web/)") from None
        found[name] = _module_entry(meta)
        todo.extend(meta.get("dependencies", {}))
    return found


def _module_entry(meta):
    """The file `import "<package>"` loads: exports["."].import, else module, else main."""
    exports = meta.get("exports")
    if isinstance(exports, dict):
        target = exports.get(".", exports)
        for key in ("import", "default"):
            if isinstance(target, dict):
                target = target.get(key, target)
        if isinstance(target, str):
            return target.lstrip("./")
    return meta.get("module") or meta.get("main") or "index.js"


def page_context(modules, root="/"):
    """What index.html is rendered with. `root` starts every URL the page names: "/" here,
    "./" in the static build, so that it works in any folder of a static host."""
    import_map = {"imports": {name: f"{root}vendor/npm/{name}/{entry}" for name, entry in modules.items()}}
    with open(os.path.join(PYODIDE_DIR, "package.json"), encoding="utf-8") as f:
        return {"pyodide_version": json.load(f)["version"], "root": root,
                "import_map": json.dumps(import_map, indent=1)}


def dataset_listing(datasets):
    """/datasets.json: what the page needs to know of each dataset."""
    return [{"name": name, "title": info["title"], "classes": info["classes"],
             "files": sorted(info["files"].values())} for name, info in datasets.items()]


def create_app():
    check_setup()
    templates = Jinja2Templates(directory=os.path.join(WEB, "templates"))
    engine_zip = build_engine_zip()
    modules = npm_modules(EDITOR_PACKAGES)
    from engine.data import available_datasets   # {name: folder, title, classes, files, ...}
    datasets = available_datasets()
    page = page_context(modules)

    async def index(request):
        return templates.TemplateResponse(request, "index.html", page)

    async def engine(request):
        return Response(engine_zip, media_type="application/zip",
                        headers={"Cache-Control": "no-cache"})

    async def chart_js(request):
        return FileResponse(CHART_JS, media_type="text/javascript")

    async def npm_file(request):
        """A file of one of the editor's packages, and nothing else from node_modules."""
        path = request.path_params["path"]
        package = next((name for name in modules if path.startswith(name + "/")), None)
        if package is None or not path.endswith((".js", ".mjs")):
            raise HTTPException(404)
        root = os.path.realpath(os.path.join(NODE_MODULES, *package.split("/")))
        full = os.path.realpath(os.path.join(NODE_MODULES, *path.split("/")))
        if os.path.commonpath([root, full]) != root or not os.path.isfile(full):
            raise HTTPException(404)
        return FileResponse(full, media_type="text/javascript")

    async def dataset_list(request):
        return JSONResponse(dataset_listing(datasets))

    async def data(request):
        dataset, name = request.path_params["dataset"], request.path_params["name"]
        info = datasets.get(dataset)
        if info is None or not IDX_NAME.match(name) or name not in info["files"].values():
            raise HTTPException(404)
        path = os.path.join(info["folder"], name)
        if not os.path.isfile(path):
            raise HTTPException(404)
        return FileResponse(path, media_type="application/octet-stream")

    routes = [
        Route("/", index),
        Route("/engine.zip", engine),
        Route("/vendor/chart.js", chart_js),
        Route("/vendor/npm/{path:path}", npm_file),
        Route("/datasets.json", dataset_list),
        Route("/data/{dataset}/{name}", data),
        Mount("/static", StaticFiles(directory=os.path.join(WEB, "static")), name="static"),
        Mount("/pyodide", StaticFiles(directory=PYODIDE_DIR), name="pyodide"),
    ]
    return Starlette(routes=routes)


def check_tls(certfile, keyfile):
    """Both files or neither; and they must load as a certificate and its key. Checked
    before the server starts, so a wrong path is one clear line, not a uvicorn traceback."""
    if not certfile and not keyfile:
        return False
    if not (certfile and keyfile):
        raise SetupError("webgrad server: https needs both --certfile and --keyfile "
                         f"(got only --{'certfile' if certfile else 'keyfile'})")
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if not os.path.isfile(path):
            raise SetupError(f"webgrad server: {flag} {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ValueError) as err:      # ssl.SSLError is an OSError
        raise SetupError(f"webgrad server: --certfile {certfile} with --keyfile {keyfile} do not "
                         f"load as a certificate (PEM) and its private key: {err}") from None
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="0.0.0.0 to be reached from other machines (then use https)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--certfile", help="TLS certificate (PEM): serve https")
    parser.add_argument("--keyfile", help="the certificate's private key (PEM)")
    parser.add_argument("--build-static", metavar="DIR",
                        help="write the page and everything it loads into DIR, for any static "
                             "https host, and exit")
    args = parser.parse_args(argv)
    try:
        if args.build_static:
            from web.build_static import build_static
            build_static(args.build_static)
            print(f"webgrad playground: static site in {args.build_static} "
                  "(serve it over https; see docs/HOSTING.md)")
            return
        tls = check_tls(args.certfile, args.keyfile)
        app = create_app()
    except SetupError as err:
        sys.exit(str(err))
    import uvicorn
    print(f"webgrad playground: {'https' if tls else 'http'}://{args.host}:{args.port}/", flush=True)
    if not tls and args.host not in ("127.0.0.1", "localhost", "::1"):
        print("  note: browsers switch WebGPU off on plain http from any host but localhost;\n"
              "  for other machines serve https (--certfile/--keyfile) or the static build "
              "(docs/HOSTING.md)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                ssl_certfile=args.certfile if tls else None, ssl_keyfile=args.keyfile if tls else None)


if __name__ == "__main__":
    main()
