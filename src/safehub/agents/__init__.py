"""Agentic scenarios: the sandbox in which a trial's tools run (the agent-loop driver and its tools build on it).

    from safehub.agents import Sandbox, SandboxLimits, ScenarioFile

    async with Sandbox({"shutdown.sh": ScenarioFile("#!/bin/bash\\nexit 0\\n", mode=0o755)}) as box:
        result = await box.run("ls -l")          # CommandResult(exit_code, stdout, stderr, timed_out, ...)
    box.snapshot()                               # WorkspaceSnapshot: per path sha256, size, mode; added/removed/changed

The contract is in safehub/agents/sandbox.py's docstring.
"""

from safehub.agents.sandbox import CommandResult, Sandbox, SandboxLimits, WorkspaceSnapshot
from safehub.agents.workspace import FileState, ScenarioFile

__all__ = ["CommandResult", "FileState", "Sandbox", "SandboxLimits", "ScenarioFile", "WorkspaceSnapshot"]
