"""check-sam-build.py BUILD_DIR — fail unless `sam build` produced an executable
bootstrap for every function in the built template, and print their sizes.

It reads BUILD_DIR/template.yaml, where sam has rewritten each function's
CodeUri to the directory of its artifact, so it checks sam's own output rather
than guessing paths. Run with the sam venv's python (it has samtranslator's
YAML reader, which knows CloudFormation's short tags)."""

import os
import sys

from samtranslator.yaml_helper import yaml_parse


def main(build_dir: str) -> int:
    with open(os.path.join(build_dir, "template.yaml")) as f:
        template = yaml_parse(f.read())
    functions = {
        name: res.get("Properties", {})
        for name, res in template.get("Resources", {}).items()
        if res.get("Type") == "AWS::Serverless::Function"
    }
    if not functions:
        print(f"check-sam-build: no functions in {build_dir}/template.yaml", file=sys.stderr)
        return 1
    failed = False
    for name, props in sorted(functions.items()):
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            print(f"check-sam-build: {name}: CodeUri is not a local path: {code_uri!r}", file=sys.stderr)
            failed = True
            continue
        bootstrap = os.path.join(build_dir, code_uri, "bootstrap")
        if not os.access(bootstrap, os.X_OK):
            print(f"check-sam-build: {name}: no executable {bootstrap}", file=sys.stderr)
            failed = True
            continue
        size = os.path.getsize(bootstrap)
        print(f"check-sam-build: {name}: {bootstrap} {size} bytes ({size / 2**20:.1f} MiB)")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
