#!/usr/bin/env python3
"""Builds a tiny Llama-architecture model with random weights for tests against the real vLLM.

Nothing is fetched from a model hub: the byte-level BPE tokenizer is trained on corpus.txt (shipped
next to this script), the weights come from a fixed seed, and the result is saved in Hugging Face
format (config.json, model.safetensors, tokenizer files, chat template) so `vllm serve <dir>` loads it.

Deterministic: two builds with the same script, corpus and library versions give identical files.
Idempotent: the output directory carries a stamp (a hash of those inputs); when it matches, nothing is
rebuilt. The build goes to a temporary sibling directory that is renamed into place, so an interrupted
build never leaves a half-written model behind.

Usage: make-tiny-model.py [--out DIR] [--corpus FILE] [--force]
Run it with a Python that has torch, transformers and tokenizers (the .venv-vllm environment has them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STAMP = ".handoff-stamp"
SEED = 1234

# Small enough to load in a second and run on two CPU cores, shaped like a real Llama:
# grouped-query attention (4 query heads share 2 KV heads) and a head size that vLLM's CPU attention
# backend supports (it accepts 32, 64, 80, ... 256).
SHAPE = {
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "max_position_embeddings": 2048,
}
TARGET_VOCAB = 1024
# Random weights drawn with std 0.02 (the usual Llama init) give nearly flat logits, so greedy
# decoding would flip between tokens on bf16 rounding differences (prefill on one engine, decode on
# another). A wider init gives clear winners, which keeps temperature-0 outputs identical across
# aggregated, disaggregated and proxied runs.
INIT_STD = 0.1

SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

# Roles become marker tokens; the generation prompt opens the assistant turn. Jinja as Hugging Face
# chat templates use it (messages, add_generation_prompt, bos_token).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def input_hash(corpus: Path) -> str:
    # Versions from package metadata: importing torch just to read its version costs ~15 s on 2 cores.
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(corpus.read_bytes())
    for dist in ("torch", "transformers", "tokenizers"):
        h.update(f"{dist}=={metadata.version(dist)}\n".encode())
    return h.hexdigest()


def train_tokenizer(corpus: Path, out: Path) -> int:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=TARGET_VOCAB,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus.read_text(encoding="utf-8").splitlines(keepends=True), trainer)

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
        model_max_length=SHAPE["max_position_embeddings"],
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    return len(fast)


def build_model(out: Path, tokenizer_size: int) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    vocab = ((tokenizer_size + 63) // 64) * 64  # rounded up like real vocabularies are
    ids = json.loads((out / "tokenizer.json").read_text())["model"]["vocab"]
    config = LlamaConfig(
        vocab_size=vocab,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=ids["<s>"],
        eos_token_id=ids["</s>"],
        pad_token_id=ids["<pad>"],
        initializer_range=INIT_STD,
        torch_dtype="bfloat16",
        **SHAPE,
    )
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(config)
    model.to(torch.bfloat16)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id
    )
    model.save_pretrained(out, safe_serialization=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / ".cache" / "tiny-llama")
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus.txt")
    ap.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    args = ap.parse_args()
    try:
        want = input_hash(args.corpus)
    except metadata.PackageNotFoundError as e:
        print(f"make-tiny-model: {e.name} is not installed in this Python; use .venv-vllm/bin/python", file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    stamp = out / STAMP
    if not args.force and stamp.is_file() and stamp.read_text().strip() == want:
        print(f"make-tiny-model: {out} up to date")
        return 0

    # Tokenizer training and torch kernels stay on one thread: determinism, and fair on 2 cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    import torch

    torch.set_num_threads(1)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        size = train_tokenizer(args.corpus, tmp)
        build_model(tmp, size)
        (tmp / STAMP).write_text(want + "\n")
        # World-readable, so an agent running as another user (the loopback sshd test user) can load it.
        for p in [tmp, *tmp.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        old = out.with_name(out.name + ".old")
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cfg = json.loads((out / "config.json").read_text())
    print(
        f"make-tiny-model: built {out} (tokenizer {size} tokens, vocab {cfg['vocab_size']}, "
        f"{cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
