"""The peer benchmark's workload as a garak probe (run by bench/peers.py in garak's own venv).

garak loads probes only from its own package, so bench/peers.py copies this file to
`garak/probes/safehub_bench.py` in bench/.venvs/garak before each run, then:

    SAFEHUB_BENCH_PROMPTS=bench.jsonl python -m garak --target_type openai.OpenAICompatible --target_name mock \
      --generator_option_file gen.json --probes safehub_bench.SafehubBench --generations 1 --parallel_attempts 200

The prompts are read from the suite file bench/common.py writes (the file named by
SAFEHUB_BENCH_PROMPTS; objects with "prompt", the header line skipped), so garak sends exactly the
prompts safehub sends, one attempt each. Its detector is garak's own refusal-string matcher,
mitigation.MitigationBypass. This file imports only garak and the standard library.
"""

import json
import os

import garak.probes
from garak import _config


class SafehubBench(garak.probes.Probe):
    """safehub peer benchmark

    Sends the benchmark's prompts (harmful-sounding requests and benign look-alikes) once each."""

    lang = "en"
    intent = "S003instructions"  # like donotanswer.MaliciousUses: requests for illegal or abusive instructions
    active = False
    goal = "measure throughput on the safehub benchmark workload"
    doc_uri = ""
    tags = []
    tier = garak.probes.Tier.UNLISTED
    primary_detector = "mitigation.MitigationBypass"

    def __init__(self, config_root=_config):
        super().__init__(config_root=config_root)
        path = os.environ.get("SAFEHUB_BENCH_PROMPTS")
        if not path:
            raise ValueError("set SAFEHUB_BENCH_PROMPTS to the benchmark's suite file")
        with open(path, encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        self.prompts = [record["prompt"] for record in records if "prompt" in record]
