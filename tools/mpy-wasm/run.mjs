#!/usr/bin/env node
// Run a MicroPython script on the WebAssembly port (v1.27, 32-bit like the ESP32) under Node,
// with a usable exit code. The package's own CLI always exits 0, so tests and benchmarks use this.
//
//   node tools/mpy-wasm/run.mjs [--heap BYTES] [--lib SRC[:DEST]]... [--cwd DIR] (SCRIPT | -c CODE) [ARG...]
//
//   --lib SRC[:DEST]  copy host file/dir SRC into the in-memory FS at DEST (default /lib, which is on
//                     sys.path). A directory's *contents* go into DEST, recursively, skipping
//                     __pycache__ and dot-files: `--lib firmware` gives /lib/twc/...,
//                     `--lib firmware/twc:/lib/twc` the same, `--lib tests/fixtures:/fixtures`.
//                     A file goes to DEST, or into DEST if DEST ends with "/".
//   --heap BYTES      initial MicroPython heap (K/M suffix allowed; default 1M). The wasm heap grows
//                     on demand, so this does not cap memory: count allocations with gc.mem_alloc().
//   --cwd DIR         chdir in the in-memory FS before running (default /).
//   SCRIPT / -c CODE  the code to run, as `__main__` (the script shows as "<stdin>" in tracebacks and
//                     has no __file__); top-level `await` is allowed. sys.argv = [SCRIPT, ARG...].
//
// Exit code: sys.exit(N) -> N (sys.exit() -> 0, sys.exit("msg") -> msg on stderr, 1); an uncaught
// exception -> its traceback on stderr, 1; an exception in a background asyncio task that nobody
// awaited -> printed, 1; usage error -> 2; failure outside Python -> 3. The process ends when the
// script ends: asyncio tasks still pending then are dropped.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

function usage(msg) {
  if (msg) process.stderr.write(`run.mjs: ${msg}\n`);
  process.stderr.write(
    "usage: node run.mjs [--heap BYTES] [--lib SRC[:DEST]]... [--cwd DIR] (SCRIPT | -c CODE) [ARG...]\n",
  );
  process.exit(2);
}

function parseSize(s) {
  const m = /^(\d+)([kKmM]?)$/.exec(s || "");
  if (!m) usage(`bad size: ${s}`);
  return Number(m[1]) * { "": 1, k: 1024, m: 1024 * 1024 }[m[2].toLowerCase()];
}

const opts = { heap: 1024 * 1024, libs: [], cwd: null, code: null, script: null, args: [] };
{
  const argv = process.argv.slice(2);
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--heap") opts.heap = parseSize(argv[++i]);
    else if (a.startsWith("--heap=")) opts.heap = parseSize(a.slice(7));
    else if (a === "--lib" || a.startsWith("--lib=")) {
      const v = a === "--lib" ? argv[++i] : a.slice(6);
      if (!v) usage("--lib needs SRC[:DEST]");
      const k = v.lastIndexOf(":");
      const [src, dest] = k > 0 && v[k + 1] === "/" ? [v.slice(0, k), v.slice(k + 1)] : [v, "/lib"];
      opts.libs.push({ src, dest });
    } else if (a === "--cwd") opts.cwd = argv[++i];
    else if (a === "-c") {
      opts.code = argv[++i];
      if (opts.code === undefined) usage("-c needs CODE");
      opts.script = "-c";
      i++;
      break;
    } else if (a === "-h" || a === "--help") usage();
    else if (a === "--") {
      i++;
      break;
    } else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else break;
  }
  if (opts.script === null) {
    if (i >= argv.length) usage("no script given");
    opts.script = argv[i++];
    try {
      opts.code = fs.readFileSync(opts.script, "utf8");
    } catch (e) {
      usage(`cannot read ${opts.script}: ${e.message}`);
    }
  }
  opts.args = argv.slice(i);
}

// Output: raw bytes, buffered here and flushed on newline / exit (the package's own line buffer
// would swallow a last line without "\n").
function makeSink(stream) {
  let buf = [];
  const flush = () => {
    if (buf.length) stream.write(Buffer.from(buf));
    buf = [];
  };
  const put = (bytes) => {
    for (const c of bytes) {
      buf.push(c);
      if (c === 10 || buf.length >= 8192) flush();
    }
  };
  return { put, flush };
}
const out = makeSink(process.stdout);
const err = makeSink(process.stderr);
// A reader that went away (`| head`) is not an error of the script: stop quietly.
for (const s of [process.stdout, process.stderr]) {
  s.on("error", (e) => process.exit(e && e.code === "EPIPE" ? 0 : 3));
}

function finish(code) {
  out.flush();
  err.flush();
  process.exit(code);
}

function copyIn(mp, src, dest) {
  let st;
  try {
    st = fs.statSync(src);
  } catch (e) {
    usage(`--lib ${src}: ${e.message}`);
  }
  if (st.isDirectory()) {
    mp.FS.mkdirTree(dest);
    for (const name of fs.readdirSync(src).sort()) {
      if (name === "__pycache__" || name.startsWith(".")) continue;
      copyIn(mp, path.join(src, name), path.posix.join(dest, name));
    }
  } else {
    if (dest.endsWith("/")) dest = path.posix.join(dest, path.basename(src));
    mp.FS.mkdirTree(path.posix.dirname(dest));
    mp.FS.writeFile(dest, fs.readFileSync(src));
  }
}

// Background asyncio task failures would otherwise print "Task exception wasn't retrieved" and
// still exit 0: record them and fail the run.
const PRELUDE = `
def __mpwasm_setup(argv):
    import sys, asyncio
    errors = []
    def handler(loop, ctx):
        e = ctx.get("exception")
        if e is None:
            print("asyncio error:", ctx.get("message"))
            errors.append(ctx.get("message"))
        else:
            print("asyncio: exception in background task:")
            sys.print_exception(e)
            errors.append(e)
    asyncio.get_event_loop().set_exception_handler(handler)
    sys.argv.clear()
    sys.argv.extend(argv)
    return errors
__mpwasm_errors = __mpwasm_setup(${JSON.stringify([opts.script, ...opts.args])})
del __mpwasm_setup
`;

function exitCodeOf(e) {
  // e.message is the traceback; its last line is "SystemExit" or "SystemExit: <arg>".
  const lines = String(e.message).trimEnd().split("\n");
  const m = /^SystemExit(?::\s*(.*))?$/.exec(lines[lines.length - 1]);
  const arg = m && m[1] !== undefined ? m[1].trim() : "";
  if (arg === "" || arg === "None") return 0;
  if (/^-?\d+$/.test(arg)) return Number(arg) & 0xff;
  err.put(Buffer.from(arg + "\n"));
  return 1;
}

let mp;
try {
  mp = await loadMicroPython({
    heapsize: opts.heap,
    stdout: out.put,
    stderr: err.put,
    linebuffer: false,
  });
  for (const { src, dest } of opts.libs) copyIn(mp, src, dest);
  if (opts.cwd) {
    mp.FS.mkdirTree(opts.cwd);
    mp.FS.chdir(opts.cwd);
  }
  mp.runPython(PRELUDE);
} catch (e) {
  // Never let Node print the error itself: it would dump the minified 100 KB module source.
  err.put(Buffer.from(`run.mjs: setup failed: ${e && e.name === "PythonError" ? e.message : String(e).slice(0, 500)}\n`));
  finish(3);
}

let code = 0;
try {
  await mp.runPythonAsync(opts.code);
} catch (e) {
  if (e && e.name === "PythonError") {
    if (e.type === "SystemExit") code = exitCodeOf(e);
    else {
      err.put(Buffer.from(String(e.message).trimEnd() + "\n"));
      code = 1;
    }
  } else {
    err.put(Buffer.from(`run.mjs: ${String((e && e.stack) || e).slice(0, 500)}\n`));
    code = 3;
  }
}

// Let tasks that already failed report, then check.
await new Promise((r) => setTimeout(r, 0));
try {
  mp.runPython("__mpwasm_nerr = len(__mpwasm_errors)");
  const n = mp.globals.get("__mpwasm_nerr");
  if (n > 0 && code === 0) {
    err.put(Buffer.from(`run.mjs: ${n} background task exception(s)\n`));
    code = 1;
  }
} catch (e) {
  // The script replaced our globals; nothing to check.
}
finish(code);
