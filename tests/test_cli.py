"""``python -m reptheory``: figure list, argument errors, a reproduce run end to end on a tiny book."""
import contextlib
import json
import os
import subprocess
import sys

import nbformat
import pytest

from reptheory import cli
from reptheory.networks import train
from reptheory.presentation import report


def _book(tmp_path, ok=True):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Fig. 99: test"),
                nbformat.v4.new_code_cell("import os\nprofile = os.environ['REPTHEORY_PROFILE']\nx = 0.25"),
                nbformat.v4.new_markdown_cell("## Checks"),
                nbformat.v4.new_code_cell(f"assert x {'<' if ok else '>'} 1\nprint('x is', x)\n"
                                          "from reptheory.presentation import report\nreport.record(x=x, profile=profile)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    d = tmp_path / "book"
    d.mkdir()
    nbformat.write(nb, d / "fig99_test.ipynb")
    return d


def test_figures_of_the_book():
    figs = cli.figures()
    assert figs["fig2"].name == "fig02_architectures.ipynb" and "phase_diagram" in figs


def test_reproduce_writes_numbers_and_status(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_BOOK", str(_book(tmp_path)))
    out = tmp_path / "out"
    rc = cli.main(["reproduce", "fig99", "--profile", "paper", "--out", str(out), "--cache", str(tmp_path / "c"),
                   "--jobs", "1", "--no-progress"])
    assert rc == 0
    res = json.loads((out / "checks.json").read_text())
    assert res["status"] == "passed" and res["numbers"] == {"x": 0.25, "profile": "paper"}
    assert res["checks_output"] == ["x is 0.25"] and res["n_jobs"] == 1 and res["device"] == "cpu"
    assert (out / "fig99_test.ipynb").exists()


def test_failed_check_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_BOOK", str(_book(tmp_path, ok=False)))
    rc = cli.main(["reproduce", "fig99", "--out", str(tmp_path / "o"), "--no-progress", "--jobs", "1"])
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert rc == 1 and res["status"] == "failed" and "AssertionError" in res["error"]["error"]


@pytest.mark.parametrize("args, msg", [
    (["reproduce", "fig77"], "unknown figure 'fig77'"),
    (["reproduce", "fig2", "--jobs", "0"], "--jobs must be an integer from 1 to"),
    (["reproduce", "fig2", "--jobs", "-1"], "--jobs must be an integer from 1 to"),
    (["reproduce", "fig2", "--device", "tpu"], "device must be cpu, cuda"),
])
def test_bad_arguments_exit_2(args, msg, capsys, tmp_path):
    assert cli.main(args + ["--out", str(tmp_path / "o")]) == 2
    assert msg in capsys.readouterr().err


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "reptheory", "list"], capture_output=True, text=True, check=True)
    assert "fig2" in r.stdout


def test_device_validation():
    assert train.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        train.device("abacus")
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            train.device("cuda")


def test_record_is_silent_without_a_report_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REPTHEORY_REPORT", raising=False)
    report.record(a=1)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("REPTHEORY_REPORT", str(tmp_path / "r.jsonl"))
    import numpy as np
    report.record(a=np.float64(0.5), b={(0, 1): np.arange(2)})
    report.record(a=2)
    assert report.read(tmp_path / "r.jsonl") == {"a": 2, "b": {"(0, 1)": [0, 1]}}


def _one_cell_book(tmp_path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Fig. 98: test"), nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    d = tmp_path / "book"
    d.mkdir()
    nbformat.write(nb, d / "fig98_test.ipynb")
    return d


def test_an_error_that_is_not_a_check_exits_3_with_plain_text(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_BOOK", str(_one_cell_book(tmp_path, "1 / 0")))
    rc = cli.main(["reproduce", "fig98", "--out", str(tmp_path / "o"), "--no-progress", "--jobs", "1"])
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert rc == cli.RUN_ERROR == 3 and res["status"] == "error"
    assert res["error"]["error"].startswith("ZeroDivisionError") and "\x1b" not in json.dumps(res)


def test_default_profile_is_the_librarys(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_BOOK", str(_book(tmp_path)))
    assert cli.main(["reproduce", "fig99", "--out", str(tmp_path / "o"), "--no-progress", "--jobs", "1"]) == 0
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert res["profile"] == "default" and res["numbers"]["profile"] == "default"


def test_setup_is_checked_before_a_kernel_starts(tmp_path, capsys):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    assert cli.main(["reproduce", "fig2", "--out", str(afile)]) == 2
    assert f"--out {afile} is a file, not a folder" in capsys.readouterr().err
    assert cli.main(["reproduce", "fig2", "--out", str(tmp_path / "o"), "--cache", str(afile)]) == 2
    assert "--cache" in capsys.readouterr().err
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        assert cli.main(["reproduce", "fig2", "--out", str(tmp_path / "o"), "--backend", "dask"]) == 2
        assert "the backend dask (--backend or REPTHEORY_BACKEND) needs the package dask" in capsys.readouterr().err


@pytest.mark.parametrize("sig,reason", [("SIGTERM", "SIGTERM"), ("SIGINT", "SIGINT (Ctrl-C)")])
def test_a_signal_stops_the_kernel_and_writes_the_status(tmp_path, sig, reason):
    """SIGTERM (as sent by `timeout`) is handled like Ctrl-C (SIGINT to the terminal's process group): no kernel
    left running, status interrupted, one line on the terminal and no traceback: not this process's, not the
    kernel's, not what the cell prints to stderr when the shutdown interrupts it (as the workers do)."""
    import os
    import signal
    import time
    pidfile = tmp_path / "kernel.pid"
    book = _one_cell_book(tmp_path, "import os, subprocess, sys, time\n"
                                    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                                    f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                                    "try:\n    time.sleep(120)\nexcept KeyboardInterrupt:\n"     # as a worker would
                                    "    print('Traceback (most recent call last): KeyboardInterrupt', file=sys.stderr)\n"
                                    "    raise")
    env = dict(os.environ, REPTHEORY_BOOK=str(book))
    proc = subprocess.Popen([sys.executable, "-m", "reptheory", "reproduce", "fig98", "--out", str(tmp_path / "o"),
                             "--no-progress", "--jobs", "1"], env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    for _ in range(1200):
        if (pidfile.exists() and pidfile.read_text()) or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert proc.poll() is None and pidfile.exists(), f"the cell did not start: {proc.poll()} {proc.stderr.read()}"
    kernel = int(pidfile.read_text())
    time.sleep(0.5)                                 # the cell is running
    os.killpg(proc.pid, getattr(signal, sig))       # as a terminal does: the whole process group
    assert proc.wait(timeout=60) == 130
    err = proc.stderr.read()
    assert "Traceback" not in err and "Error" not in err, err
    (line,) = [l for l in err.splitlines() if "stopped by" in l]
    assert line.startswith(f"fig98: stopped by {reason} in cell 1 after ") and "result cache" in line
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert res["status"] == "interrupted" and res["error"]["error"] == f"stopped by {reason}"
    for _ in range(100):
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the kernel (pid {kernel}) is still running after SIGTERM")


# -- refusals before a kernel starts, the lock of the output folder, interrupts (no kernel: a stand-in client) --
class _Client:
    """Stands in for nbclient without a kernel: runs no cell, or raises ``exc`` when the kernel starts
    (``at="start"``) or when a cell runs (``at="cell"``)."""
    km = None

    def __init__(self, at=None, exc=None):
        self.at, self.exc = at, exc

    @contextlib.contextmanager
    def setup_kernel(self, env, **streams):
        self.env = env
        if self.at == "start":
            raise self.exc
        yield

    def execute_cell(self, cell, i):
        if self.at == "cell":
            raise self.exc


def _fake(monkeypatch, tmp_path, **kw):
    monkeypatch.setenv("REPTHEORY_BOOK", str(_book(tmp_path)))
    client = _Client(**kw)
    monkeypatch.setattr(cli, "_client", lambda nb, timeout, path: client)
    return client


def _argv(tmp_path, *more):
    return ["reproduce", "fig99", "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), "--no-progress",
            "--jobs", "1", *more]


@pytest.mark.parametrize("var,value,msg", [
    ("REPTHEORY_N_JOBS", "abc", "REPTHEORY_N_JOBS (jobs) must be an integer >= 1, got 'abc'"),
    ("REPTHEORY_PROGRESS", "yes", "REPTHEORY_PROGRESS (progress) must be one of: unset, '' or 0 (no bars), 1 "
                                  "(tqdm bars), terminal (text bars on stderr); got 'yes'"),
    ("REPTHEORY_BACKEND", "spark", "REPTHEORY_BACKEND (backend) must be one of loky, dask, ray, got 'spark'"),
])
@pytest.mark.parametrize("command", [["list"], ["reproduce", "fig2"]])
def test_a_bad_variable_is_one_error_line_and_status_2(monkeypatch, tmp_path, capsys, var, value, msg, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    assert cli.main(command) == 2
    out = capsys.readouterr()
    assert out.err == f"error: {msg}\n" and out.out == "" and not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv,env,msg", [
    (["--jobs", "100000"], {}, "--jobs must be an integer from 1 to {cpus4} (4 per CPU, {cpus} CPUs here, for local "
                               "worker processes; --backend dask or ray allows up to 4096), got 100000"),
    ([], {"REPTHEORY_N_JOBS": "100000"}, "REPTHEORY_N_JOBS must be an integer from 1 to {cpus4}"),
    (["--jobs", "5000", "--backend", "dask"], {}, "--jobs must be an integer from 1 to 4096 (--backend dask), "
                                                  "got 5000"),
    (["--jobs", "5000"], {"REPTHEORY_BACKEND": "ray"}, "--jobs must be an integer from 1 to 4096 (--backend ray)"),
    (["--out", ""], {}, "--out must name a folder, got '' (an empty path would be the working folder)"),
    (["--cache", ""], {}, "--cache must name a folder, got ''"),
    (["--out", " "], {}, "--out must name a folder, got ' '"),
])
def test_refused_before_anything_is_written(monkeypatch, tmp_path, capsys, argv, env, msg):
    import os
    monkeypatch.chdir(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["reproduce", "fig5", "--profile", "paper", "--yes", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: " + msg.format(cpus4=4 * os.cpu_count(), cpus=os.cpu_count())) and \
        err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_the_estimate_never_counts_more_workers_than_allowed():
    import os
    most = 4 * os.cpu_count()
    assert cli.estimate("fig5", "paper", 100000) == cli.estimate("fig5", "paper", most) == 9 * 3600 / most
    assert cli.estimate("fig5", "paper", 100000, "dask") == 9 * 3600 / 4096


@pytest.mark.parametrize("where", ["REPTHEORY_CACHE", "--cache"])
def test_a_cache_folder_that_cannot_be_written_is_refused_naming_it(monkeypatch, tmp_path, capsys, where):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    monkeypatch.setenv("REPTHEORY_BOOK", str(_book(tmp_path)))
    argv = ["reproduce", "fig99", "--out", str(tmp_path / "o"), "--jobs", "1"]
    if where == "--cache":
        argv += ["--cache", str(afile / "c")]
    else:
        monkeypatch.setenv("REPTHEORY_CACHE", str(afile / "c"))
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == f"error: {where} {afile / 'c'} cannot be created: {afile} is a file, not a " \
                                      "folder\n"
    assert not (tmp_path / "o").exists()


def test_a_tilde_in_cache_and_out_is_the_home(monkeypatch, tmp_path, capsys):
    client = _fake(monkeypatch, tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["reproduce", "fig99", "--out", "~/o", "--cache", "~/c", "--no-progress", "--jobs", "1"]) == 0
    assert client.env["REPTHEORY_CACHE"] == str(tmp_path / "home" / "c")
    assert (tmp_path / "home" / "o" / "checks.json").exists() and not (tmp_path / "~").exists()
    monkeypatch.setenv("REPTHEORY_CACHE", "~/env-cache")
    assert cli.main(["reproduce", "fig99", "--out", "o2", "--no-progress", "--jobs", "1"]) == 0
    assert client.env["REPTHEORY_CACHE"] == str(tmp_path / "home" / "env-cache")


def test_a_relative_cache_folder_reaches_the_kernel_as_an_absolute_one(monkeypatch, tmp_path):
    client = _fake(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPTHEORY_CACHE", "rel-cache")
    assert cli.main(["reproduce", "fig99", "--out", "o", "--no-progress", "--jobs", "1"]) == 0
    assert client.env["REPTHEORY_CACHE"] == str(tmp_path / "rel-cache")    # the kernel runs in the book's folder


def test_a_second_run_on_the_same_out_is_refused_while_the_first_holds_it(monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", f"""if True:
        import fcntl, os, sys, time
        fd = os.open({str(out / cli.LOCK)!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, str(os.getpid()).encode())
        print("locked", flush=True)
        time.sleep(60)"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        assert cli.main(_argv(tmp_path)) == 2
        assert capsys.readouterr().err == f"error: --out {out} is in use by another reproduce run (pid " \
                                          f"{holder.pid}): wait for it to finish, or give another --out\n"
        assert sorted(p.name for p in out.iterdir()) == [cli.LOCK]        # nothing of the run's written
    finally:
        holder.kill()
        holder.wait()
    assert cli.main(_argv(tmp_path)) == 0                                  # free once the holder is gone
    assert json.loads((out / "checks.json").read_text())["status"] == "passed"


def _lock_is_free(out) -> bool:
    import fcntl
    import os
    fd = os.open(out / cli.LOCK, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("at,exc,reason,where", [
    ("cell", KeyboardInterrupt(), "SIGINT (Ctrl-C)", "in cell 1"),
    ("start", KeyboardInterrupt(), "SIGINT (Ctrl-C)", "before the first cell"),
    ("cell", cli._Stop("SIGTERM"), "SIGTERM", "in cell 1"),
    ("cell", cli._Stop("SIGHUP"), "SIGHUP", "in cell 1"),
])
def test_an_interrupt_is_one_line_status_130_and_names_its_reason(monkeypatch, tmp_path, capsys, at, exc, reason,
                                                                  where):
    _fake(monkeypatch, tmp_path, at=at, exc=exc)
    assert cli.main(_argv(tmp_path)) == cli.INTERRUPTED == 130
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert res["status"] == "interrupted" and res["error"]["error"] == f"stopped by {reason}"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("fig99: fig99_test.ipynb")             # the start line, then one
    assert err[1].startswith(f"fig99: stopped by {reason} {where} after ") and str(tmp_path / "c") in err[1]
    assert _lock_is_free(tmp_path / "o")


def test_ctrl_c_before_the_kernel_starts_is_one_line_and_status_130(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)

    def interrupted(name):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_backend_importable", interrupted)
    assert cli.main(["reproduce", "fig2", "--jobs", "1"]) == 130
    assert capsys.readouterr().err == "fig2: stopped by SIGINT (Ctrl-C) before the notebook started: nothing ran\n"
    assert not list(tmp_path.iterdir())


def test_the_help_states_the_range_of_jobs(capsys):
    import os
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"1 to 4 per CPU ({4 * os.cpu_count()} here) with the local backend, up to 4096 with dask or ray" in text


def _wait_until_mapped(pid, name, timeout=60.0):
    """Poll ``/proc/<pid>/maps`` until a shared object whose path contains ``name`` is loaded (Linux)."""
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if name in open(f"/proc/{pid}/maps").read():
                return
        except FileNotFoundError:
            break
        time.sleep(0.005)
    raise AssertionError(f"{name} was never loaded by process {pid}")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to see when the package starts importing")
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8])
def test_ctrl_c_while_the_package_imports_is_one_line_and_status_130(delay, tmp_path):
    """``python -m reptheory`` interrupted while numpy, scipy and torch import (before ``main`` runs), or just
    after: one line on stderr, status 130, no traceback. The signal goes ``delay`` seconds after numpy's extension
    is mapped, that is once the package's own code runs: a Ctrl-C earlier, while the interpreter itself starts
    (``site``), is the interpreter's to report, not the package's, and a fixed delay from launch cannot tell the
    two apart on a loaded machine."""
    import signal
    import time
    p = subprocess.Popen([sys.executable, "-m", "reptheory", "reproduce", "fig2", "--out", str(tmp_path / "o"),
                          "--no-progress", "--cache", str(tmp_path / "c")], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_mapped(p.pid, "_multiarray_umath")
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert "Traceback" not in err, err
    assert p.returncode == 130 and "stopped by SIGINT (Ctrl-C)" in err, (p.returncode, err)


def test_version_prints_the_packages_version(capsys):
    from reptheory import __version__
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"reptheory {__version__}\n"
