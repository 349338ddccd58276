"""The README's code blocks run as written (the tour, the user gradcheck example)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        namespace = {}
        exec(compile(block, str(README), "exec"), namespace)
        for name, obj in list(namespace.items()):
            if name.startswith("test_") and callable(obj):
                obj()                       # run the user's hypothesis test too


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    cmds = re.findall(r"```bash\n(.*?)\n```", text, re.S)
    assert cmds[:2] == ['pip install -e . && minicv train', 'pip install -e ".[test]" && pytest']
    ci = (README.parent / ".ci" / "run").read_text()
    assert cmds[1] in ci
