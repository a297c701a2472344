"""A tiny model zoo written to a folder: three models that pass, one whose export diverges, one
that crashes its process and one that hangs. Each model in its own file, so that changing one
file changes one model."""

from __future__ import annotations

import textwrap
from pathlib import Path

_HEAD = "import os, signal, time\nimport torch\n\n\n"
MODELS = {
    "mlp": """
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(4, 8)
                self.b = torch.nn.Linear(8, 3)

            def forward(self, x):
                return self.b(torch.relu(self.a(x)))
        """,
    "cnn": """
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
                self.head = torch.nn.Linear(4, 2)

            def forward(self, x):
                y = torch.relu(self.conv(x)).mean(dim=(2, 3))
                return self.head(y)
        """,
    # A GRU cell over a fixed number of steps: nn.GRU under the torchscript exporter trips its
    # traced-control-flow rule, which is a true finding but not what this zoo is for.
    "gru": """
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.cell = torch.nn.GRUCell(4, 6)

            def forward(self, x):
                h = torch.zeros(x.shape[0], 6)
                for t in range(x.shape[1]):
                    h = self.cell(x[:, t], h)
                return h
        """,
    # Planted: the exported graph adds 1, the eager model does not.
    "diverges": """
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(4, 3)

            def forward(self, x):
                y = self.a(x)
                if torch.onnx.is_in_onnx_export():
                    y = y + 1.0
                return y
        """,
    "crashes": """
        class Net(torch.nn.Module):
            def forward(self, x):
                os.kill(os.getpid(), signal.SIGSEGV)
                return x
        """,
    "hangs": """
        class Net(torch.nn.Module):
            def forward(self, x):
                time.sleep(3600)
                return x
        """,
}
INPUTS = {
    "mlp": "x:float32[batch=2,4]",
    "cnn": "x:float32[batch=2,3,8,8]",
    "gru": "x:float32[batch=2,5,4]",
    "diverges": "x:float32[batch=2,4]",
    "crashes": "x:float32[2,4]",
    "hangs": "x:float32[2,4]",
}
PASSING = ("mlp", "cnn", "gru")
#: Seconds the hanging model is given.
HANG_TIMEOUT = 3


def write_zoo(folder: Path, names: tuple[str, ...] = tuple(MODELS)) -> Path:
    """Write the models named and a zoo.toml listing them; return the zoo file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    # torchscript: the exporter is not under test here, and it exports these in a fraction of
    # the time dynamo takes.
    lines = ["[defaults]", 'exporter = "torchscript"', ""]
    for name in names:
        (folder / f"{name}.py").write_text(_HEAD + textwrap.dedent(MODELS[name]))
        lines += ["[[model]]", f'name = "{name}"', f'model = "{name}.py:Net"']
        lines.append(f'inputs = ["{INPUTS[name]}"]')
        if name == "diverges":
            lines.append("localize = false")
        if name == "hangs":
            lines.append(f"timeout = {HANG_TIMEOUT}")
        lines.append("")
    zoo = folder / "zoo.toml"
    zoo.write_text("\n".join(lines))
    return zoo
