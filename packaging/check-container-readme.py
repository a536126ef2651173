#!/usr/bin/env python3
"""Checks that the README's container commands are in step with packaging/Dockerfile.

Reads the fenced blocks of the README section that the Dockerfile's header names, and the
Dockerfile itself, and reports every disagreement:

- `docker build`: the -f path is this Dockerfile, the context is the repository root (where
  .dockerignore is), the -t name is the image's title label, and the command is the one the
  Dockerfile's header gives;
- `docker run` of that image: --gpus is given, every -v mounts a VOLUME of the last stage and
  every VOLUME is mounted, the words after the image are a workbench-cli subcommand and its
  options (read from app/cli_main.cpp), and absolute paths lie in a volume;
- paths in YAML blocks lie in a volume, and -DWB_... options exist in CMakeLists.txt;
- the recipe: tagged base images, apt-get with -y, --no-install-recommends and its lists
  removed, pinned pip installs, an unprivileged USER, an exec-form ENTRYPOINT naming the
  headless executable, the CMake options it sets exist, COPY sources exist and are not
  excluded by .dockerignore.

Exit status 0 when all agree, 1 otherwise. Standard library only.
"""

import argparse
import fnmatch
import json
import os
import re
import shlex
import sys
from pathlib import Path

# Images of other projects that the section may run (TensorBoard); their commands are not ours.
OTHER_IMAGES = ("tensorflow/tensorflow",)
# docker run options that take a value (the ones the README could use).
RUN_VALUE_OPTIONS = {
    "-v", "--volume", "-e", "--env", "--name", "-u", "--user", "-p", "--publish", "--gpus",
    "--entrypoint", "-w", "--workdir", "--shm-size", "--mount", "--ipc", "--network",
    "--env-file", "--cpus", "--memory", "-m", "--stop-timeout",
}


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, text):
        self.items.append(f"{where}: {text}")


def dockerfile_instructions(text):
    """(first line number, KEYWORD, arguments) per instruction; comments and continuations
    handled as Docker does."""
    result, pending, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, args = pending.partition(" ")
        result.append((start, keyword.upper(), args.strip()))
        pending = ""
    return result


def substitute(text, values):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m[1] or m[2], m[0]), text)


def json_or_words(args):
    if args.startswith("["):
        return json.loads(args)
    return args.split()


def readme_section(readme_text, title):
    """(line number of the heading, lines) of the '## title' section."""
    lines = readme_text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"## {title}":
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("## ")),
                       len(lines))
            return i + 1, lines[i:end]
    return None, []


def fenced_blocks(start, lines):
    """(info string, [(line number, text)]) per fenced block."""
    blocks, current, info = [], None, ""
    for offset, line in enumerate(lines):
        if line.strip().startswith("```"):
            if current is None:
                current, info = [], line.strip()[3:].strip()
            else:
                blocks.append((info, current))
                current = None
        elif current is not None:
            current.append((start + offset, line))
    return blocks


def shell_commands(block):
    """(line number, words) per command, continuations joined and comments dropped."""
    commands, pending, first = [], "", 0
    for number, line in block:
        if not pending:
            first = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        pending += line
        words = shlex.split(pending, comments=True)
        pending = ""
        command = []
        for word in words + [";"]:
            if word in (";", "&&", "||", "|"):
                if command:
                    commands.append((first, command))
                command = []
            else:
                command.append(word)
    return commands


def under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def ignored(path, patterns):
    """Whether .dockerignore keeps `path` (relative to the context) out of the context."""
    parts = Path(path).parts
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatchcase("/".join(parts[:i]), pattern):
                excluded = not negate
    return excluded


def cli_words(cli_source):
    subcommands = set(re.findall(r'add_subcommand\(\s*"([^"]+)"', cli_source))
    options = set()
    for names in re.findall(r'add_(?:option|flag)\(\s*"([^"]+)"', cli_source):
        options.update(n for n in names.split(",") if n.startswith("-"))
    return subcommands, options


def check_recipe(instructions, df_name, root, problems):
    """The recipe's own rules; returns the facts the README is checked against."""
    global_args, stage_args, stages = {}, {}, []
    for line, keyword, args in instructions:
        if keyword == "ARG":
            name, _, value = args.partition("=")
            (stage_args if stages else global_args)[name] = value.strip('"')
        elif keyword == "FROM":
            stages.append([])
            stage_args = {}
            image = substitute(args.split()[0], global_args)
            tag = image.rpartition(":")[2] if ":" in image else ""
            if not tag or tag == "latest" or "$" in image:
                problems.add(f"{df_name}:{line}", f"base image '{image}' has no fixed tag")
        if stages:
            stages[-1].append((line, keyword, args))

    wb_options = set(re.findall(r"option\((WB_\w+)", (root / "CMakeLists.txt").read_text()))
    ignore_file = root / ".dockerignore"
    patterns = []
    if ignore_file.exists():
        patterns = [p.strip() for p in ignore_file.read_text().splitlines()
                    if p.strip() and not p.strip().startswith("#")]
    else:
        problems.add(".dockerignore", "missing at the repository root (the build context)")

    for line, keyword, args in instructions:
        where = f"{df_name}:{line}"
        if keyword == "RUN" and "apt-get install" in args:
            for needed in ("apt-get update", " -y", "--no-install-recommends",
                           "rm -rf /var/lib/apt/lists/*"):
                if needed not in args:
                    problems.add(where, f"apt-get install without '{needed.strip()}'")
        if keyword == "RUN" and "pip install" in args:
            if "--no-cache-dir" not in args:
                problems.add(where, "pip install without --no-cache-dir")
            for spec in re.findall(r"pip install [^&;]*", args):
                for word in spec.split()[2:]:
                    if not word.startswith("-") and "==" not in word:
                        problems.add(where, f"pip package {word} is not pinned with ==")
        if keyword == "RUN" and re.search(r"\bcmake\s+-S", args):
            given = set(re.findall(r"-D(WB_\w+)=", args))
            for name in sorted(given - wb_options):
                problems.add(where, f"-D{name}: no such option() in CMakeLists.txt")
            for needed in ("-DWB_BUILD_GUI=OFF", "-DWB_BUILD_TESTS=OFF"):
                if needed not in args:
                    problems.add(where, f"the build does not set {needed}")
        if keyword in ("COPY", "ADD") and "--from" not in args:
            sources = json_or_words(args)[:-1]
            for source in (s for s in sources if not s.startswith("--")):
                if not (root / source).exists():
                    problems.add(where, f"COPY source {source} does not exist")
                elif ignored(source, patterns):
                    problems.add(where, f"COPY source {source} is excluded by .dockerignore")

    final = stages[-1] if stages else []
    facts = {"volumes": [], "entrypoint": None, "title": None, "user": None}
    for line, keyword, args in final:
        if keyword == "VOLUME":
            facts["volumes"] += json_or_words(args)
        elif keyword == "ENTRYPOINT":
            if not args.startswith("["):
                problems.add(f"{df_name}:{line}", "ENTRYPOINT is not in exec (JSON) form")
            facts["entrypoint"] = json_or_words(args)
        elif keyword == "USER":
            facts["user"] = args.split(":")[0]
        elif keyword == "LABEL":
            match = re.search(r'org\.opencontainers\.image\.title="?([^"\s]+)', args)
            if match:
                facts["title"] = match[1]
    if facts["user"] in (None, "root", "0"):
        problems.add(df_name, "the last stage runs as root (no USER)")
    if not facts["volumes"]:
        problems.add(df_name, "the last stage declares no VOLUME")
    if not facts["title"]:
        problems.add(df_name, "no LABEL org.opencontainers.image.title (the image name)")
    app_cmake = (root / "app" / "CMakeLists.txt").read_text()
    cli = re.search(r"add_executable\((\S+)\s+cli_main\.cpp[^)]*\)", app_cmake)
    cli_name = cli[1] if cli else "(none)"
    if not facts["entrypoint"] or facts["entrypoint"][0] != cli_name:
        problems.add(df_name, f"ENTRYPOINT {facts['entrypoint']} is not the headless executable "
                     f"that app/CMakeLists.txt builds from cli_main.cpp: {cli_name}")
    return facts


def check_run(line, words, facts, image_name, cli, problems):
    where = f"README.md:{line}"
    mounts, options, i = [], {}, 2
    while i < len(words) and words[i].startswith("-"):
        word = words[i]
        name, eq, value = word.partition("=")
        if name in RUN_VALUE_OPTIONS and not eq:
            i += 1
            value = words[i] if i < len(words) else ""
        options.setdefault(name, []).append(value)
        if name in ("-v", "--volume"):
            mounts.append(value)
        i += 1
    if i >= len(words):
        problems.add(where, "docker run without an image")
        return False
    image, args = words[i], words[i + 1:]
    if image.startswith(OTHER_IMAGES):
        return False
    if image.split(":")[0] != image_name:
        problems.add(where, f"docker run of image '{image}', but the build tags '{image_name}'")
        return False
    if "--gpus" not in options:
        problems.add(where, "docker run without --gpus: the container would see no GPU")
    volumes = facts["volumes"]
    mounted = []
    for mount in mounts:
        parts = mount.split(":")
        target = parts[1] if len(parts) > 1 else parts[0]
        mounted.append(target)
        if target not in volumes:
            problems.add(where, f"mounts {target}, which is not a VOLUME of the image "
                         f"({', '.join(volumes)})")
    for volume in volumes:
        if volume not in mounted:
            problems.add(where, f"does not mount the image's VOLUME {volume}")
    if "--entrypoint" in options:
        return True
    subcommands, cli_options = cli
    exe = (facts["entrypoint"] or ["(no ENTRYPOINT)"])[0]
    if not args or args[0] not in subcommands:
        problems.add(where, f"'{' '.join(args[:1])}' is not a subcommand of "
                     f"{exe} ({', '.join(sorted(subcommands))})")
    for arg in args[1:]:
        name = arg.partition("=")[0]
        if name.startswith("-") and name not in cli_options:
            problems.add(where, f"{name} is not an option of {exe}")
        if arg.startswith("/") and not under(arg, volumes + ["/opt/workbench"]):
            problems.add(where, f"{arg} is outside the image's volumes ({', '.join(volumes)})")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root_default = Path(__file__).resolve().parent.parent
    parser.add_argument("--root", type=Path, default=root_default, help="repository root")
    parser.add_argument("--dockerfile", type=Path, help="default: ROOT/packaging/Dockerfile")
    parser.add_argument("--readme", type=Path, help="default: ROOT/README.md")
    a = parser.parse_args()
    root = a.root.resolve()
    dockerfile = (a.dockerfile or root / "packaging" / "Dockerfile").resolve()
    readme = (a.readme or root / "README.md").resolve()
    df_text = dockerfile.read_text()
    df_name = os.path.relpath(dockerfile, root)
    problems = Problems()

    facts = check_recipe(dockerfile_instructions(df_text), df_name, root, problems)
    cli = cli_words((root / "app" / "cli_main.cpp").read_text())

    title_match = re.search(r'^#.*"([^"]+)" in README\.md', df_text, re.M)
    header_build = re.search(r"^#\s+(docker build .*)$", df_text, re.M)
    if not title_match or not header_build:
        problems.add(df_name, "the header names no README section or gives no build command")
        return report(problems, 0)
    start, section = readme_section(readme.read_text(), title_match[1])
    if not section:
        problems.add("README.md", f"no section '## {title_match[1]}' (named by {df_name})")
        return report(problems, 0)

    commands = []
    for info, block in fenced_blocks(start, section):
        if info in ("sh", "bash", "console", ""):
            commands += shell_commands(block)
        elif info == "yaml":
            for number, text in block:
                value = text.partition("#")[0].partition(":")[2].strip().strip("'\"")
                if value.startswith("/") and not under(value, facts["volumes"]):
                    problems.add(f"README.md:{number}", f"{value} is outside the image's "
                                 f"volumes ({', '.join(facts['volumes'])})")

    wb_options = set(re.findall(r"option\((WB_\w+)", (root / "CMakeLists.txt").read_text()))
    for line, words in commands:
        for name in re.findall(r"-D(WB_\w+)=", " ".join(words)):
            if name not in wb_options:
                problems.add(f"README.md:{line}", f"-D{name}: no such option() in CMakeLists.txt")

    builds = [(n, w) for n, w in commands if w[:2] == ["docker", "build"]]
    runs = [(n, w) for n, w in commands if w[:2] == ["docker", "run"]]
    if len(builds) != 1:
        problems.add("README.md", f"the section has {len(builds)} docker build commands, not 1")
    image_name = facts["title"]
    for line, words in builds:
        where = f"README.md:{line}"
        if " ".join(words) != " ".join(header_build[1].split()):
            problems.add(where, f"'{' '.join(words)}' differs from the Dockerfile's header: "
                         f"'{header_build[1]}'")
        file_arg = words[words.index("-f") + 1] if "-f" in words else "Dockerfile"
        if (root / file_arg).resolve() != dockerfile:
            problems.add(where, f"builds {file_arg}, not {df_name}")
        if words[-1] != ".":
            problems.add(where, f"context '{words[-1]}' is not the repository root '.', "
                         "where .dockerignore is")
        tag = words[words.index("-t") + 1].split(":")[0] if "-t" in words else None
        if tag != facts["title"]:
            problems.add(where, f"tags '{tag}', the image's title label is '{facts['title']}'")
    ours = [check_run(line, words, facts, image_name, cli, problems) for line, words in runs]
    if not any(ours):
        problems.add("README.md", "the section runs the image with no docker run command")
    return report(problems, len(builds) + len(runs))


def report(problems, count):
    for item in problems.items:
        print(item)
    if problems.items:
        print(f"check-container-readme: {len(problems.items)} problem(s)")
        return 1
    print(f"check-container-readme: the README's {count} docker commands agree with the recipe")
    return 0


if __name__ == "__main__":
    sys.exit(main())
