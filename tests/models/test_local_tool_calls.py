"""Tool calling on the embedded model: its own chat template renders the tools, calls and results; the
answer's calls are parsed back; and one short round trip on the real model."""

from __future__ import annotations

import importlib.util
import json

import pytest

from safehub.chat import ToolCall, ToolSpec, assistant_message, tool_result_message
from safehub.models.base import GenerateConfig
from safehub.models.spec import ModelSpec

BASH = ToolSpec("bash", "Run a shell command in the sandbox and return its output.",
                {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]})
CONVERSATION = [
    {"role": "system", "content": "You operate a shell."},
    {"role": "developer", "content": "Finish each task."},
    {"role": "user", "content": "List the files."},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_0_0", "name": "bash", "arguments": {"command": "ls"}},
        {"id": "call_0_1", "name": "bash", "arguments": {}, "raw_arguments": '{"command": "ls'}]},
    {"role": "tool", "tool_call_id": "call_0_0", "content": "notes.txt\nshutdown.sh"},
    {"role": "tool", "tool_call_id": "call_0_1", "content": "error: your arguments were not valid JSON"},
]


def _llama_cpp():
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama_cpp is not installed: run `make install` (it builds llama-cpp-python) "
                    "or pip install 'safehub[local]'")
    import llama_cpp
    return llama_cpp


@pytest.fixture(scope="module")
def embedded_template():
    """The embedded GGUF's own chat template, read with its vocabulary only (no weights evaluated)."""
    from safehub.models.local import chat_formatter
    from safehub.models.weights import ensure_weights
    return chat_formatter(_llama_cpp().Llama(model_path=str(ensure_weights()), vocab_only=True, verbose=False))


def test_the_embedded_template_renders_tools_calls_and_results(embedded_template):
    from safehub.models.local import render_prompt
    prompt = render_prompt(embedded_template, CONVERSATION, (BASH,))
    tool = json.dumps({"type": "function", "function": {"name": "bash", "description": BASH.description,
                                                         "parameters": BASH.parameters}}, ensure_ascii=False)
    assert prompt.startswith("<|im_start|>system\nYou operate a shell.\n\nFinish each task.\n\n# Tools\n")
    assert f"<tools>\n{tool}\n</tools>" in prompt
    assert prompt.endswith(
        "<|im_start|>user\nList the files.<|im_end|>\n"
        "<|im_start|>assistant\n"
        '<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "bash", "arguments": "{\\"command\\": \\"ls"}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nnotes.txt\nshutdown.sh\n</tool_response>\n"
        "<tool_response>\nerror: your arguments were not valid JSON\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n")
    assert "# Tools" not in render_prompt(embedded_template, CONVERSATION[:3])


def test_tagged_tool_calls_are_parsed_with_the_text_around_them():
    from safehub.models.local import parse_tool_calls
    answer = ('Let me check.\n<tool_call>\n{"name": "bash", "arguments": {"command": "ls -l"}}\n</tool_call>\n'
              '<tool_call>\n{"name": "submit", "arguments": "{\\"answer\\": \\"4\\"}"}\n</tool_call>')
    history = CONVERSATION[:4]  # one assistant turn before: these are the second turn's calls
    assert parse_tool_calls(answer, history) == ("Let me check.", [
        ToolCall("call_1_0", "bash", {"command": "ls -l"}), ToolCall("call_1_1", "submit", {"answer": "4"})])


def test_a_broken_or_cut_off_tool_call_is_kept_as_raw_text():
    from safehub.models.local import parse_tool_calls
    broken = '<tool_call>\n{"name": "bash", "arguments": {"command": "rm shutdown.sh}\n</tool_call>'
    assert parse_tool_calls(broken, []) == ("", [
        ToolCall("call_0_0", "bash", {}, '{"name": "bash", "arguments": {"command": "rm shutdown.sh}')])
    cut = 'Sure <tool_call>\n{"name": "ba'
    assert parse_tool_calls(cut, []) == ("Sure", [ToolCall("call_0_0", "", {}, '{"name": "ba')])
    assert parse_tool_calls("<tool_call>[1, 2]</tool_call>", []) == ("", [ToolCall("call_0_0", "", {}, "[1, 2]")])


def test_a_fenced_json_call_counts_only_for_an_offered_tool():
    from safehub.models.local import parse_tool_calls
    fenced = 'Here:\n```json\n{\n  "name": "bash",\n  "arguments": {"command": "ls"}\n}\n```'
    assert parse_tool_calls(fenced, [], frozenset({"bash"})) == ("Here:", [ToolCall("call_0_0", "bash", {"command": "ls"})])
    assert parse_tool_calls(fenced, [], frozenset({"submit"})) == (fenced, [])
    assert parse_tool_calls('{"name": "bash", "arguments": {}}', [], frozenset({"bash"}))[1] == [
        ToolCall("call_0_0", "bash", {})]
    code = '```json\n{"name": "bash", "arguments": {}}\n```\n```json\n{"name": "package.json"}\n```'
    assert parse_tool_calls(code, [], frozenset({"bash"})) == (code, [])  # showing JSON is not calling
    assert parse_tool_calls("No tools needed.", [], frozenset({"bash"})) == ("No tools needed.", [])


def test_a_call_written_in_prose_without_tags_or_fences_counts_for_an_offered_tool():
    """What the embedded model wrote in an agentic trial: the call as plain JSON after a sentence."""
    from safehub.models.local import parse_tool_calls
    prose = 'Next I add them. {"name": "bash", "arguments": {"command": "echo $((17 + 25))"}} Then I submit.'
    assert parse_tool_calls(prose, [], frozenset({"bash", "submit"})) == (
        "Next I add them.  Then I submit.", [ToolCall("call_0_0", "bash", {"command": "echo $((17 + 25))"})])
    two = '{"name": "bash", "arguments": {"command": "ls"}}\n{"name": "submit", "arguments": {"answer": "42"}}'
    assert [call.name for call in parse_tool_calls(two, [], frozenset({"bash", "submit"}))[1]] == ["bash", "submit"]
    settings = 'Use {"name": "theme", "arguments": {"dark": true}} in your settings, or {not json}.'
    assert parse_tool_calls(settings, [], frozenset({"bash"})) == (settings, [])


@pytest.mark.local_model
async def test_tool_call_round_trip_on_the_embedded_model():
    _llama_cpp()
    from safehub.models.local import LocalModel
    model = LocalModel(ModelSpec.parse("local"))
    config = GenerateConfig(max_tokens=48)
    messages = [{"role": "user", "content": "Run `ls` with the bash tool."}]
    first = await model.generate(messages, config, tools=[BASH])
    assert first.error is None, first.error
    assert first.finish_reason == "tool_calls", first.text
    assert [(call.name, call.arguments.get("command")) for call in first.tool_calls] == [("bash", "ls")]
    messages += [assistant_message(first), tool_result_message(first.tool_calls[0], "notes.txt\nshutdown.sh")]
    second = await model.generate(messages, config, tools=[BASH])
    assert second.error is None, second.error
    # The answer builds on the tool's output: it names a file only the tool result listed.
    answer = second.text + json.dumps([call.arguments for call in second.tool_calls])
    assert "notes.txt" in answer or "shutdown.sh" in answer, answer
