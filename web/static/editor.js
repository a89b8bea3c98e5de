// The model editor: CodeMirror 6 with Python highlighting (npm packages, served by
// server.py through the page's import map). If the modules cannot be loaded, a plain
// textarea takes its place: the page stays usable, only without colours.
//
// createEditor(parent, onRun) -> {getValue, setValue, showError(line, message), clearError,
//                                 focus, kind}

export async function createEditor(parent, onRun) {
  try {
    return await codeMirror(parent, onRun);
  } catch (err) {
    console.warn("CodeMirror did not load; using a plain text area:", err);
    return textArea(parent, onRun);
  }
}

async function codeMirror(parent, onRun) {
  const [{basicSetup}, {python}, {EditorView, keymap}, {EditorState, Prec}, {setDiagnostics, lintGutter}] =
    await Promise.all([import("codemirror"), import("@codemirror/lang-python"),
                       import("@codemirror/view"), import("@codemirror/state"),
                       import("@codemirror/lint")]);
  const run = () => { onRun(); return true; };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        Prec.highest(keymap.of([{key: "Mod-Enter", run}, {key: "Shift-Enter", run}])),
        basicSetup, python(), lintGutter(), EditorView.lineWrapping,
        EditorView.contentAttributes.of({"aria-label": "Model code (Python)"}),
      ],
    }),
  });
  return {
    kind: "codemirror",
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}});
      view.dispatch(setDiagnostics(view.state, []));
    },
    showError(line, message) {
      const diagnostics = [];
      if (line && line >= 1 && line <= view.state.doc.lines) {
        const l = view.state.doc.line(line);
        diagnostics.push({from: l.from, to: Math.max(l.to, l.from), severity: "error", message});
        view.dispatch({effects: EditorView.scrollIntoView(l.from, {y: "center"})});
      }
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    clearError() {
      view.dispatch(setDiagnostics(view.state, []));
    },
    focus: () => view.focus(),
  };
}

function textArea(parent, onRun) {
  const area = document.createElement("textarea");
  area.className = "plain-editor";
  area.spellcheck = false;
  area.setAttribute("aria-label", "Model code (Python)");
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey || e.shiftKey)) {
      e.preventDefault();
      onRun();
    }
  });
  parent.append(area);
  return {
    kind: "textarea",
    getValue: () => area.value,
    setValue(text) { area.value = text; },
    showError(line) {
      if (!line) return;
      const lines = area.value.split("\n");
      const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    },
    clearError() {},
    focus: () => area.focus(),
  };
}
