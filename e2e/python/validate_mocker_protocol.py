"""Checks bodies the Handoff mocker took and emitted against vLLM's own OpenAI protocol models.

Usage: python validate_mocker_protocol.py SAMPLES.json  (prints a JSON report on stdout)

SAMPLES.json: {"requests": {name: {"kind": "completion"|"chat", "body": {...}}},
               "responses": {name: {"kind": ..., "body": {...}}},
               "chunks": {name: {"kind": ..., "chunks": [{...}, ...]}},
               "errors": {name: {...}}, "models": {...}, "tokenize": {...}, "detokenize": {...}}

For each sample the report says whether vLLM's pydantic class accepts it and, for what vLLM
itself serialises, whether the mocker's JSON equals what vLLM would write for the same values:
non-streaming bodies are compared with `model_dump()` (all fields, in class order); stream chunks
are rebuilt the way vLLM's serving code builds them and compared with
`model_dump_json(exclude_unset=True)` (exclude_none for the final usage chunk).
Reads vLLM only as a library; copies nothing from it.
"""

import json
import sys


def ordered_equal(a, b, path="$"):
    """Deep equality that also compares dict key order; returns a list of differences."""
    diffs = []
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            diffs.append(f"{path}: keys {list(a.keys())} != vLLM {list(b.keys())}")
        for k in a.keys() & b.keys():
            diffs += ordered_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{path}: length {len(a)} != vLLM {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            diffs += ordered_equal(x, y, f"{path}[{i}]")
    elif a != b:
        diffs.append(f"{path}: {a!r} != vLLM {b!r}")
    return diffs


def main() -> int:
    from vllm.entrypoints.generate.base.protocol import DeltaMessage
    from vllm.entrypoints.openai.chat_completion.protocol import (
        ChatCompletionRequest,
        ChatCompletionResponse,
        ChatCompletionResponseStreamChoice,
        ChatCompletionStreamResponse,
    )
    from vllm.entrypoints.openai.completion.protocol import (
        CompletionRequest,
        CompletionResponse,
        CompletionResponseStreamChoice,
        CompletionStreamResponse,
    )
    from vllm.entrypoints.serve.engine.protocol import ErrorResponse, ModelList, UsageInfo
    from vllm.entrypoints.serve.tokenize.protocol import DetokenizeResponse, TokenizeResponse
    import vllm

    samples = json.load(open(sys.argv[1]))
    report = {"vllm_version": vllm.__version__, "results": {}}
    res = report["results"]

    def check(name, fn):
        try:
            diffs = fn()
            res[name] = {"ok": not diffs, "diffs": diffs or []}
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            res[name] = {"ok": False, "diffs": [f"{type(e).__name__}: {e}"]}

    req_cls = {"completion": CompletionRequest, "chat": ChatCompletionRequest}
    resp_cls = {"completion": CompletionResponse, "chat": ChatCompletionResponse}

    for name, s in samples.get("requests", {}).items():
        check(f"request:{name}", lambda s=s: (req_cls[s["kind"]].model_validate(s["body"]), [])[1])

    for name, s in samples.get("responses", {}).items():
        def resp(s=s):
            obj = resp_cls[s["kind"]].model_validate(s["body"])
            return ordered_equal(s["body"], json.loads(json.dumps(obj.model_dump())))

        check(f"response:{name}", resp)

    def rebuild_chunk(kind, c, first, usage_follows):
        """What vLLM's serving code would build for the values in chunk `c`.

        vLLM stamps system_fingerprint on the chunk with the finish reason when no usage chunk
        follows (include_usage off); otherwise only the usage chunk carries it."""
        if not c["choices"]:
            u = c["usage"]
            usage = UsageInfo(prompt_tokens=u["prompt_tokens"], completion_tokens=u["completion_tokens"], total_tokens=u["total_tokens"])
            cls = ChatCompletionStreamResponse if kind == "chat" else CompletionStreamResponse
            kwargs = dict(id=c["id"], created=c["created"], model=c["model"], choices=[], usage=usage, system_fingerprint=c.get("system_fingerprint"))
            if kind == "chat":
                kwargs["object"] = "chat.completion.chunk"
                return json.loads(cls(**kwargs).model_dump_json(exclude_unset=True, exclude_none=True))
            return json.loads(cls(**kwargs).model_dump_json(exclude_unset=False, exclude_none=True))
        ch = c["choices"][0]
        if kind == "completion":
            choice = CompletionResponseStreamChoice(
                index=ch["index"], text=ch["text"], logprobs=None, finish_reason=ch["finish_reason"],
                stop_reason=ch["stop_reason"], prompt_token_ids=None, token_ids=None,
            )
            chunk = CompletionStreamResponse(id=c["id"], object="text_completion", created=c["created"], model=c["model"], choices=[choice])
        elif first:
            choice = ChatCompletionResponseStreamChoice(index=0, delta=DeltaMessage(role="assistant", content=""), logprobs=None, finish_reason=None)
            chunk = ChatCompletionStreamResponse(
                id=c["id"], object="chat.completion.chunk", created=c["created"], choices=[choice], model=c["model"], prompt_token_ids=None, prompt_text=None,
            )
        elif ch["finish_reason"] is None:
            choice = ChatCompletionResponseStreamChoice(index=0, delta=DeltaMessage(content=ch["delta"]["content"]), logprobs=None, finish_reason=None, token_ids=None)
            chunk = ChatCompletionStreamResponse(id=c["id"], object="chat.completion.chunk", created=c["created"], choices=[choice], model=c["model"])
        else:
            choice = ChatCompletionResponseStreamChoice(
                index=0, delta=DeltaMessage(content=ch["delta"]["content"]), logprobs=None,
                finish_reason=ch["finish_reason"], stop_reason=ch["stop_reason"], token_ids=None,
            )
            chunk = ChatCompletionStreamResponse(id=c["id"], object="chat.completion.chunk", created=c["created"], choices=[choice], model=c["model"])
        if ch["finish_reason"] is not None and not usage_follows:
            chunk.system_fingerprint = c.get("system_fingerprint")
        if "usage" in c:
            u = c["usage"]
            chunk.usage = UsageInfo(prompt_tokens=u["prompt_tokens"], completion_tokens=u["completion_tokens"], total_tokens=u["total_tokens"], **({"completion_tokens_details": None} if kind == "chat" else {}))
        return json.loads(chunk.model_dump_json(exclude_unset=True))

    for name, s in samples.get("chunks", {}).items():
        for i, c in enumerate(s["chunks"]):
            def chunk_check(s=s, c=c, i=i):
                cls = ChatCompletionStreamResponse if s["kind"] == "chat" else CompletionStreamResponse
                cls.model_validate(c)
                usage_follows = any(not x["choices"] for x in s["chunks"])
                return ordered_equal(c, rebuild_chunk(s["kind"], c, i == 0, usage_follows))

            check(f"chunk:{name}[{i}]", chunk_check)

    for name, body in samples.get("errors", {}).items():
        check(f"error:{name}", lambda body=body: ordered_equal(body, ErrorResponse.model_validate(body).model_dump()))

    if "models" in samples:
        check("models", lambda: ordered_equal(samples["models"], ModelList.model_validate(samples["models"]).model_dump()))
    if "tokenize" in samples:
        check("tokenize", lambda: ordered_equal(samples["tokenize"], TokenizeResponse.model_validate(samples["tokenize"]).model_dump()))
    if "detokenize" in samples:
        check("detokenize", lambda: ordered_equal(samples["detokenize"], DetokenizeResponse.model_validate(samples["detokenize"]).model_dump()))

    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
