"""``python -m reptheory``: figure list, argument errors, a reproduce run end to end on a tiny book."""
import json
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
    (["reproduce", "fig2", "--jobs", "0"], "--jobs must be an integer >= 1"),
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
        assert "--backend dask needs the package dask" in capsys.readouterr().err


def test_sigterm_stops_the_kernel_and_writes_the_status(tmp_path):
    """SIGTERM (as sent by `timeout`) is handled like Ctrl-C: no kernel left running, status interrupted."""
    import os
    import signal
    import time
    pidfile = tmp_path / "kernel.pid"
    book = _one_cell_book(tmp_path, f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                                    "time.sleep(120)")
    env = dict(os.environ, REPTHEORY_BOOK=str(book))
    proc = subprocess.Popen([sys.executable, "-m", "reptheory", "reproduce", "fig98", "--out", str(tmp_path / "o"),
                             "--no-progress", "--jobs", "1"], env=env, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.1)
    kernel = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert "SIGTERM" in proc.stderr.read()
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert res["status"] == "interrupted" and "SIGTERM" in res["error"]["error"]
    for _ in range(100):
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the kernel (pid {kernel}) is still running after SIGTERM")
