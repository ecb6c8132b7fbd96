"""The `local` adapter: the embedded default model, run in-process with llama-cpp-python.

    model = LocalModel(ModelSpec.parse("local"))
    completion = await model.generate([{"role": "user", "content": "Answer A or B. ..."}],
                                      GenerateConfig(max_tokens=32, top_logprobs=5))
    completion.first_token_logprobs   # e.g. {"A": -0.12, "B": -2.2, ...}

`local` runs Qwen2.5-Coder-0.5B-Instruct from the weight packages (see `weights.py`);
`local:PATH.gguf` runs another GGUF file as it is. The prompt is rendered with the GGUF's own
chat template. One `Llama` is loaded per process and settings; its calls are serialized (a
llama.cpp context is not thread safe) and run in one worker thread of its own, so the event loop
stays free and waiting calls hold no thread.
First-token logprobs come from the logits of the prompt's last position, read right after
llama-cpp-python evaluated the prompt for generation, so they cost no extra evaluation and need
no `logits_all=True` (which computes the vocabulary projection for every prompt position).
At temperature 0 a prompt's answer and logprobs do not depend on the calls before it.

Tools go through the same template, which knows them: Qwen2.5's renders each tool (OpenAI's
`{"type": "function", "function": {...}}`) into the system prompt, an assistant turn's calls as
`<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`, and tool turns as `<tool_response>` blocks
of a user turn. The model answers calls in that form, or (the 0.5B model, mostly) as a ```json block holding
just `{"name", "arguments"}` of an offered tool; `parse_tool_calls` reads both back (a tagged block whose JSON
does not parse is still a call, with its text as `raw_arguments`), and the text around them is the answer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from safehub.chat import ToolCall, ToolSpec, call_id, tool_calls_of
from safehub.errors import UsageError
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError, RetryPolicy
from safehub.models.spec import ModelSpec
from safehub.models.weights import ensure_weights

LLAMA_HINT = "the local model needs llama-cpp-python; run `make install` or pip install 'safehub[local]'"

_LOADED: dict[tuple[str, int, int], _LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


class LocalModel(ModelAdapter):
    provider: ClassVar[str] = "local"
    supports_logprobs: ClassVar[bool] = True
    enforces_timeout: ClassVar[bool] = False  # a running llama.cpp call cannot be abandoned

    def __init__(self, spec: ModelSpec, *, max_concurrency: int = 1, retry: RetryPolicy | None = None,
                 n_threads: int | None = None, n_ctx: int = 4096, reuse_prefix: bool = False):
        super().__init__(spec, max_concurrency=max_concurrency, retry=retry)
        self.n_threads = n_threads or _usable_cpus()
        self.n_ctx = n_ctx
        self.reuse_prefix = reuse_prefix
        self._model: _LoadedModel | None = None

    async def preflight(self) -> None:
        await self._loaded()

    async def _generate(self, messages: list[Message], config: GenerateConfig,
                        tools: tuple[ToolSpec, ...] = ()) -> Completion:
        model = await self._loaded()
        cancelled = threading.Event()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                model.worker, model.complete, messages, config, cancelled, self.reuse_prefix, tools)
        except asyncio.CancelledError:
            cancelled.set()  # the worker thread stops at its next token and frees the model
            raise

    async def _loaded(self) -> _LoadedModel:
        if self._model is None:
            # Assembling the weights (first run) and loading both block, so neither runs on the loop.
            self._model = await asyncio.to_thread(lambda: load_model_file(self._model_path(), self.n_threads,
                                                                          self.n_ctx))
        return self._model

    def _model_path(self) -> Path:
        if not self.spec.model:
            return ensure_weights()
        path = Path(self.spec.model).expanduser()
        if not path.is_file():
            raise UsageError(f"model spec {self.spec.display!r}: {path} is not a file; use `local` for the "
                             f"embedded model or local:PATH to a .gguf file")
        return path


ADAPTER = LocalModel


def load_model_file(path: Path, n_threads: int, n_ctx: int) -> _LoadedModel:
    """The process-wide loaded model for these settings, loading it on first use."""
    key = (str(path), n_threads, n_ctx)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _LoadedModel(_import_llama_cpp().Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                logits_all=False, verbose=False))
        return _LOADED[key]


def _usable_cpus() -> int:
    """CPUs this process may run on (a container or `taskset` can allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _import_llama_cpp() -> Any:
    if importlib.util.find_spec("llama_cpp") is None:
        raise UsageError(LLAMA_HINT)
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:  # e.g. the shared library does not load on this CPU
        raise UsageError(f"{LLAMA_HINT} ({type(exc).__name__}: {exc})") from None
    return llama_cpp


class _LoadedModel:
    """One `Llama`, its chat formatter and the lock that serializes every use of its context."""

    def __init__(self, llama: Any):
        import numpy
        self._np = numpy
        self._llama_cpp = _import_llama_cpp()
        self.llama = llama
        self.lock = threading.Lock()
        # Calls queue here rather than each holding a thread of the loop's default pool while it waits.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safehub-local")
        self.vocab = llama._model.vocab
        self.n_vocab = llama.n_vocab()
        self.formatter = chat_formatter(llama)

    def complete(self, messages: list[Message], config: GenerateConfig, cancelled: threading.Event,
                 reuse_prefix: bool = False, tools: tuple[ToolSpec, ...] = ()) -> Completion:
        """Generate a reply (runs in a worker thread).

        By default every prompt is evaluated from scratch. `reuse_prefix` keeps the KV cache of the
        longest prefix shared with the previous call (about 0.2 s less per short prompt here), but
        then logits depend on that previous call: evaluating a suffix in a different batch moves
        logprobs by up to ~0.03, enough to flip a greedy near-tie, so a trial's answer would depend
        on which trial ran before it (and differ after a resume).
        """
        try:
            prompt_text = render_prompt(self.formatter, messages, tools)
            # The template writes its own special tokens (bos included, when the model wants one).
            prompt = self.llama.tokenize(prompt_text.encode("utf-8"), add_bos=False, special=True)
        except Exception as exc:  # noqa: BLE001 - a template error is this call's error, not a crash
            raise ModelCallError("client", f"local model cannot format these messages: {exc}") from None
        with self.lock:
            try:
                if not reuse_prefix:
                    self.llama.reset()
                completion = self._complete_locked(prompt, config, cancelled)
            except ModelCallError:
                raise
            except Exception as exc:  # noqa: BLE001 - llama errors become stored trial errors
                self.llama.reset()  # the next call evaluates its whole prompt instead of trusting this state
                raise ModelCallError("internal", f"local model: {type(exc).__name__}: {exc}") from None
        if tools:
            completion.text, completion.tool_calls = parse_tool_calls(
                completion.text, messages, frozenset(tool.name for tool in tools))
            if completion.tool_calls and completion.finish_reason == "stop":
                completion.finish_reason = "tool_calls"
        return completion

    def _complete_locked(self, prompt: list[int], config: GenerateConfig, cancelled: threading.Event) -> Completion:
        llama, llama_cpp = self.llama, self._llama_cpp
        room = llama.n_ctx() - len(prompt)
        if room <= 0:
            raise ModelCallError("client", f"prompt of {len(prompt)} tokens does not fit the local model's "
                                           f"context of {llama.n_ctx()} tokens")
        max_tokens = min(max(config.max_tokens, 0), room)
        is_greedy = config.temperature <= 0
        if config.seed is not None:
            llama.set_seed(config.seed % llama_cpp.LLAMA_DEFAULT_SEED)  # the default value means "random"
        else:
            llama.set_seed(llama_cpp.LLAMA_DEFAULT_SEED)
        stops = [stop.encode("utf-8") for stop in config.stop or () if stop]
        longest_stop = max(map(len, stops), default=0)

        # Vendor semantics: temperature and top_p only, so llama.cpp's top_k/min_p/typical are off.
        # `generate` evaluates the prompt (after a reset, all of it; else what follows the prefix it
        # still holds) once, then samples; nothing is decoded again until we ask for the next token,
        # so the logits of the prompt's last position are still in the context at the first token.
        tokens = llama.generate(prompt, temp=0.0 if is_greedy else config.temperature,
                                top_p=config.top_p if config.top_p is not None else 1.0,
                                top_k=0, min_p=0.0, typical_p=1.0, repeat_penalty=1.0)
        output: list[int] = []
        text = b""
        finish_reason = "length"
        first_token_logprobs = None
        try:
            for token in tokens:
                if config.top_logprobs > 0 and first_token_logprobs is None:
                    first_token_logprobs = self._last_position_logprobs(config.top_logprobs)
                if max_tokens == 0 or cancelled.is_set():
                    break
                if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                    finish_reason = "stop"
                    break
                output.append(token)
                searched_from = max(0, len(text) - longest_stop + 1)
                text += llama.detokenize([token])
                if stops:
                    hits = [at for at in (text.find(stop, searched_from) for stop in stops) if at >= 0]
                    if hits:
                        text = text[:min(hits)]
                        finish_reason = "stop"
                        break
                if len(output) >= max_tokens:
                    break
        finally:
            tokens.close()
        return Completion(text=text.decode("utf-8", errors="ignore"), finish_reason=finish_reason,
                          input_tokens=len(prompt), output_tokens=len(output),
                          first_token_logprobs=first_token_logprobs)

    def _last_position_logprobs(self, k: int) -> dict[str, float]:
        """Top-k log-probabilities (temperature 1) of the token after the last evaluated position.

        Without `logits_all` llama-cpp-python's `scores` array is never filled, so the row is read
        from the context itself; special tokens keep their text (`<|im_end|>` means an empty reply).
        When two tokens render to the same text, the likelier one is kept.
        """
        np, llama = self._np, self.llama
        row = self._llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        if not row:
            raise ModelCallError("internal", "local model: no logits for the prompt's last position")
        logits = np.ctypeslib.as_array(row, shape=(self.n_vocab,)).astype(np.float64)
        peak = logits.max()
        log_normalizer = peak + np.log(np.exp(logits - peak).sum())
        k = min(k, self.n_vocab)
        top = np.argpartition(logits, -k)[-k:]
        top = top[np.argsort(-logits[top])]
        logprobs: dict[str, float] = {}
        for token in top.tolist():
            piece = llama.detokenize([token], special=True).decode("utf-8", errors="replace")
            logprobs.setdefault(piece, float(logits[token] - log_normalizer))
        return logprobs


def chat_formatter(llama: Any) -> Any:
    """The GGUF's own chat template as a formatter (a `Llama` loaded with `vocab_only=True` is enough)."""
    from llama_cpp import llama_chat_format
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise UsageError(f"{llama.model_path} has no tokenizer.chat_template; the local adapter needs a chat model")
    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
        bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
        add_generation_prompt=True)


def render_prompt(formatter: Any, messages: list[Message], tools: tuple[ToolSpec, ...] = ()) -> str:
    """The prompt text for a conversation, tools (in OpenAI's shape, which templates expect) included."""
    template_tools = [{"type": "function", "function": tool.cache_fields()} for tool in tools] or None
    return formatter(messages=chat_messages(messages), tools=template_tools).prompt


def chat_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages for the chat template: `developer` becomes `system`, and the leading system
    messages are joined into one, the only place most templates (Qwen's included) expect one.
    Tool calls keep their arguments as an object (the template writes them as JSON), or the model's
    text when it did not parse; tool turns keep their `tool_call_id`."""
    rendered: list[dict[str, Any]] = []
    for message in messages:
        role = "system" if message["role"] in ("system", "developer") else message["role"]
        if role == "system" and rendered and all(m["role"] == "system" for m in rendered):
            rendered[0]["content"] += "\n\n" + message["content"]
            continue
        turn: dict[str, Any] = {"role": role, "content": message["content"]}
        if message.get("tool_calls"):
            turn["tool_calls"] = [{"id": call.id, "type": "function", "function": {
                "name": call.name,
                "arguments": call.arguments if call.raw_arguments is None else call.raw_arguments}}
                for call in tool_calls_of(message)]
        if role == "tool":
            turn["tool_call_id"] = message["tool_call_id"]
        rendered.append(turn)
    return rendered


_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCED_JSON = re.compile(r"```(?:json)?[ \t]*\n(.*?)```", re.DOTALL)
_NAME_IN_BROKEN_CALL = re.compile(r'"name"\s*:\s*"([^"]*)"')


def parse_tool_calls(text: str, messages: list[Message], tool_names: frozenset[str] = frozenset()) -> tuple[str, list[ToolCall]]:
    """The answer's tool calls, and the text outside them.

    The template's form is `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; a block cut off by the
    token limit still counts, and one whose JSON does not parse is a call with the name found in it (or "")
    and the block's text as `raw_arguments`. Without such blocks, a ```json fenced block that is exactly
    `{"name": TOOL, "arguments": {...}}` for an offered TOOL is a call too, and without fences so is each such
    object in the prose: the embedded Qwen2.5-Coder-0.5B writes its calls those ways (llama.cpp's server reads
    Hermes-style calls the same way). A fence that is not a call means the answer shows code and calls nothing.
    """
    calls = [_call_in_block(match.group(1).strip(), call_id(messages, index))
             for index, match in enumerate(_TOOL_CALL_BLOCK.finditer(text))]
    if calls:
        return _TOOL_CALL_BLOCK.sub("", text).strip(), calls
    fenced = [(match, _bare_call(match.group(1), tool_names)) for match in _FENCED_JSON.finditer(text)]
    if not fenced:
        found = _bare_calls_in_prose(text, tool_names)
        if not found:
            return text, []
        bounds = [0, *(edge for span in found for edge in span), len(text)]
        outside = "".join(text[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2))
        return outside.strip(), [_named(json.loads(text[start:end]), call_id(messages, index))
                                 for index, (start, end) in enumerate(found)]
    if not all(call for _, call in fenced):  # a fence that is not a call: the answer shows code, it calls nothing
        return text, []
    calls = [_named(call, call_id(messages, index)) for index, (_, call) in enumerate(fenced)]
    return _FENCED_JSON.sub("", text).strip(), calls


def _call_in_block(block: str, identifier: str) -> ToolCall:
    try:
        call = json.loads(block)
    except ValueError:
        call = None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        named = _NAME_IN_BROKEN_CALL.search(block)
        return ToolCall(identifier, named.group(1) if named else "", {}, block)
    return _named(call, identifier)


def _named(call: dict, identifier: str) -> ToolCall:
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):  # some fine-tunes write the arguments as a JSON string
        return ToolCall.from_arguments_text(identifier, call["name"], arguments)
    if isinstance(arguments, dict):
        return ToolCall(identifier, call["name"], arguments)
    return ToolCall(identifier, call["name"], {}, json.dumps(arguments))


def _bare_calls_in_prose(text: str, tool_names: frozenset[str]) -> list[tuple[int, int]]:
    """The (start, end) spans of JSON objects in `text` that are each exactly a call of an offered tool: the
    0.5B model also writes `I will run it: {"name": "bash", "arguments": {...}}` without tags or fences."""
    decoder, spans, position = json.JSONDecoder(), [], text.find("{")
    while position != -1:
        try:
            call, end = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if _is_call(call, tool_names):
            spans.append((position, end))
        position = text.find("{", end)
    return spans


def _is_call(call: object, tool_names: frozenset[str]) -> bool:
    return isinstance(call, dict) and set(call) == {"name", "arguments"} and call["name"] in tool_names


def _bare_call(text: str, tool_names: frozenset[str]) -> dict | None:
    """`text` as a call outside the template's tags: exactly {"name": an offered tool, "arguments": ...}."""
    try:
        call = json.loads(text)
    except ValueError:
        return None
    return call if _is_call(call, tool_names) else None
