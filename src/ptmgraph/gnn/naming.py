"""Model ids → naming elements, with the codes of the PTM-naming study: A architecture, S size, P parameter count,
T task, D dataset, L language, V version, F reuse method (finetuned, distilled, lora, gguf, awq, gptq ...),
C configuration (cased, patch16-224, context length), N layer count, H hidden size / heads, R training regime,
Q quantization bits (ours; the study files these under F), O other.

The vocabularies are written by hand from the ecosystem's conventions; an unknown token is `O`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Architecture tokens and the transformers model_type each one names ("" = a family with no single type).
ARCH_TOKENS: dict[str, str] = {
    "bert": "bert", "roberta": "roberta", "xlm-roberta": "xlm-roberta", "xlmr": "xlm-roberta",
    "camembert": "camembert", "distilbert": "distilbert", "albert": "albert", "electra": "electra",
    "deberta": "deberta", "debertav2": "deberta-v2", "deberta-v2": "deberta-v2", "deberta-v3": "deberta-v2",
    "mpnet": "mpnet", "longformer": "longformer", "gpt2": "gpt2", "distilgpt2": "gpt2", "gpt-neo": "gpt_neo",
    "gptneo": "gpt_neo", "gpt-neox": "gpt_neox", "pythia": "gpt_neox", "opt": "opt", "bloom": "bloom",
    "bloomz": "bloom", "llama": "llama", "llama2": "llama", "llama-2": "llama", "llama3": "llama",
    "llama-3": "llama", "tinyllama": "llama", "vicuna": "llama", "alpaca": "llama", "mistral": "mistral",
    "mixtral": "mixtral", "qwen": "qwen2", "qwen2": "qwen2", "qwen1.5": "qwen2", "t5": "t5", "flan-t5": "t5",
    "mt5": "mt5", "bart": "bart", "distilbart": "bart", "mbart": "mbart", "marian": "marian", "opus-mt": "marian",
    "vit": "vit", "deit": "deit", "beit": "beit", "swin": "swin", "convnext": "convnext", "resnet": "resnet",
    "wav2vec2": "wav2vec2", "wav2vec": "wav2vec2", "hubert": "hubert", "whisper": "whisper", "clip": "clip",
    "falcon": "falcon", "phi": "phi", "gemma": "gemma", "codegen": "codegen", "xlnet": "xlnet", "gptj": "gptj",
    "gpt-j": "gptj", "led": "led", "pegasus": "pegasus", "bigbird": "big_bird", "funnel": "funnel",
    "minilm": "bert", "tinybert": "bert", "biobert": "bert", "scibert": "bert", "codebert": "roberta",
    "sbert": "", "mobilebert": "mobilebert", "layoutlm": "layoutlm", "segformer": "segformer", "detr": "detr",
    "yolos": "yolos", "blenderbot": "blenderbot", "ernie": "ernie", "stable-diffusion": "", "sd": "",
    "gpt": "", "e5": "", "bge": "", "mamba": "mamba", "starcoder": "gpt_bigcode", "santacoder": "gpt_bigcode",
}
# Families named for a data set or a recipe rather than an architecture; kept so they are not "other".
_ARCH_EXTRA = {"wizardlm", "zephyr", "openchat", "orca", "dolly", "redpajama", "mpt", "baichuan", "yi", "chatglm",
               "stablelm", "sentence-transformers", "unet", "vae", "controlnet", "efficientnet", "mobilenet",
               "regnet", "dinov2", "dino", "sam", "blip", "llava", "wizardcoder", "codellama", "openllama",
               "cait", "poolformer", "levit", "eva", "flexivit", "xtremedistil", "minilmv2", "sgpt", "zeroscope"}
SIZES = {"tiny", "mini", "small", "base", "medium", "large", "xl", "xxl", "xlarge", "xxlarge", "huge", "giant",
         "big", "micro", "nano"}
TASKS = {"ner", "pos", "qa", "squad", "summarization", "summarize", "sentiment", "classification", "classifier",
         "cls", "translation", "chat", "instruct", "instruction", "embedding", "embeddings", "sts", "nli",
         "paraphrase", "generation", "captioning", "detection", "segmentation", "asr", "tts", "ocr", "retrieval",
         "reranker", "rerank", "keyword", "keywordextractor", "emotion", "emotions", "toxicity", "toxic",
         "hate", "similarity", "question", "answering", "token", "text", "image", "speech", "code", "mlm",
         "lm", "causal", "seq2seq", "ctc", "multitask", "punctuation", "intent", "spam", "topic", "topics",
         "fill", "mask", "dialog", "dialogue", "conversational", "coder", "math", "vision", "audio"}
DATASETS = {"squad", "squad2", "sst-2", "squad-v2", "squad-v1", "conll-2003", "squad_v2", "mnli", "sst2", "sst-2", "imdb", "conll03", "conll2003", "wikitext",
            "xsum", "cnn", "dailymail", "cnn_dailymail", "glue", "superglue", "mrpc", "qqp", "qnli", "rte",
            "cola", "stsb", "wnli", "imagenet", "in1k", "in21k", "in22k", "cifar10", "cifar100", "coco",
            "librispeech", "commonvoice", "common_voice", "ls960", "960h", "msmarco", "ms-marco", "nq", "c4",
            "pile", "wikipedia", "bookcorpus", "samsum", "emotion", "tweet", "tweets", "tweeteval", "ag_news",
            "yelp", "amazon", "pubmed", "mimic", "clinical", "arxiv", "opus", "wmt", "wmt16", "wmt19", "oscar",
            "cc100", "laion", "openai", "alpaca", "dolly", "sharegpt", "oasst", "ultrachat", "gsm8k", "humaneval",
            "superhot", "tweetsum", "halfcheetah", "hopper", "walker2d", "cartpole", "lunarlander"}
LANGUAGES = {"en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "ko", "ar", "hi", "tr", "pl", "sv",
             "fi", "da", "no", "cs", "el", "he", "id", "vi", "th", "uk", "ro", "hu", "bg", "fa", "bn", "ur",
             "ta", "te", "ml", "mr", "sw", "ca", "eu", "gl", "multilingual", "english", "german", "french",
             "spanish", "italian", "portuguese", "dutch", "russian", "chinese", "japanese", "korean", "arabic",
             "hindi", "turkish", "polish", "swedish", "finnish", "indonesian", "vietnamese", "thai", "persian",
             "bangla", "bengali", "urdu", "tamil", "swahili", "catalan", "basque", "greek", "hebrew", "czech",
             "romanian", "hungarian", "ukrainian", "mul", "itc", "roa", "gem", "sla", "zle", "xx"}
REUSE = {"finetuned": "finetune", "finetune": "finetune", "fine-tuned": "finetune", "ft": "finetune",
         "distilled": "distill", "distill": "distill", "lora": "adapter", "qlora": "adapter", "peft": "adapter",
         "adapter": "adapter", "merged": "merge", "merge": "merge", "slerp": "merge", "gguf": "quantization",
         "ggml": "quantization", "awq": "quantization", "gptq": "quantization", "exl2": "quantization",
         "quantized": "quantization", "bnb": "quantization", "int8": "quantization", "int4": "quantization",
         "onnx": "conversion", "openvino": "conversion", "mlx": "conversion", "coreml": "conversion",
         "bitfit": "finetune", "dpo": "finetune", "sft": "finetune", "rlhf": "finetune", "dist": "distill",
         "pruned": "pruning", "sparse": "pruning"}
CONFIG = {"cased", "uncased", "fp16", "fp32", "bf16", "hf", "whole", "wwm", "patch16", "patch14", "patch32",
          "patch4", "window7", "window12", "224", "384", "512", "1024", "2048", "4096", "8k", "16k", "32k",
          "4k", "16384", "4096", "cos", "mean", "weightedmean", "specb", "v1-pt"}
REGIME = {"unsupervised", "supervised", "pretrained", "trained", "iml", "scratch", "self", "ssl", "mlm", "dpo",
          "chat"}

_SPLIT = re.compile(r"[-_./\s]+")
_PARAMS = re.compile(r"^\d+(\.\d+)?[mbk]$|^\d+x\d+(\.\d+)?b$", re.I)
_BITS = re.compile(r"^(\d{1,2})[-_]?bits?$|^q\d(_k(_[msl])?|_\d)?$|^w\d+a\d+$|^[248]bit$", re.I)
_VERSION = re.compile(r"^v\d+(\.\d+)*[a-z]?$|^\d+\.\d+$|^ver\d+$|^r\d+$", re.I)
_LAYERS = re.compile(r"^(l-?\d+|\d+l|\d+-?layers?)$", re.I)
_HIDDEN = re.compile(r"^(h-?\d+|a-?\d+|\d+w|\d+h)$", re.I)
_EPOCHS = re.compile(r"^\d+ep(ochs?)?$|^step\d+$|^\d+k?steps?$|^ckpt\d*$|^checkpoint\d*$|^epoch\d+$", re.I)
_SHAPE = re.compile(r"^\d+x\d+(x\d+)?$")


@dataclass
class NameParts:
    model_id: str
    codes: list[str] = field(default_factory=list)
    elements: list[tuple[str, str]] = field(default_factory=list)  # (token, code) in order
    model_type: str | None = None  # the transformers model_type the architecture token names
    reuse: list[str] = field(default_factory=list)
    bits: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"model_id": self.model_id, "codes": self.codes, "elements": [list(e) for e in self.elements],
                "model_type": self.model_type, "reuse": self.reuse, "bits": self.bits}


def _tokens(name: str) -> list[str]:
    raw = [t for t in _SPLIT.split(name) if t]
    out = []
    for t in raw:
        low = t.lower()
        # A camel-cased family glued to a size or digit (RoBERTaLarge, Llama2, TinyBERT) splits where case turns.
        if low not in ARCH_TOKENS and any(c.isupper() for c in t[1:]) and not t.isupper():
            parts = [p for p in re.split(r"(?<=[a-z0-9])(?=[A-Z][a-z])", t) if p]
            out.extend(p.lower() for p in parts)
        else:
            out.append(low)
    return out


def _classify(token: str, joined: str) -> str:
    if token in ARCH_TOKENS or token in _ARCH_EXTRA:
        return "A"
    for arch in ARCH_TOKENS:
        if len(arch) >= 4 and arch in token and token not in REUSE:
            return "A"
    if token in REUSE:
        return "F"
    if _BITS.match(token):
        return "F"
    if token in SIZES:
        return "S"
    if _PARAMS.match(token):
        return "P"
    if _VERSION.match(token):
        return "V"
    if _LAYERS.match(token):
        return "N"
    if _HIDDEN.match(token):
        return "H"
    if token in CONFIG or _SHAPE.match(token):
        return "C"
    if _EPOCHS.match(token) or token in REGIME:
        return "R"
    if token in DATASETS:
        return "D"
    if token in TASKS:
        return "T"
    if token in LANGUAGES:
        return "L"
    return "O"


def _merge_numbers(tokens: list[str], low: str) -> list[tuple[str, str]]:
    """A bare number belongs to the token before it: "sst 2" is a data set, "llama 2" an architecture, "l 6" a
    layer count, "v1 1" one version."""
    out: list[tuple[str, str]] = []
    for token in tokens:
        if out and (token.isdigit() or (len(token) <= 2 and out[-1][0] in ("l", "h", "a"))):
            prev, prev_code = out[-1]
            joined = _classify(prev + "-" + token, low)
            if joined != "O":
                out[-1] = (prev + "-" + token, joined)
                continue
            if prev_code in ("A", "V", "D", "T") and token.isdigit() and len(token) <= 2:
                out[-1] = (prev + "-" + token, prev_code)
                continue
        out.append((token, _classify(token, low)))
    return out


def parse(model_id: str) -> NameParts:
    name = model_id.rsplit("/", 1)[-1]
    parts = NameParts(model_id)
    low = name.lower()
    tokens = _tokens(name)
    # Multi-word families first, so "xlm-roberta" is one architecture and not "roberta" plus other.
    for multi in sorted((a for a in ARCH_TOKENS if "-" in a or "." in a), key=len, reverse=True):
        if multi in low and parts.model_type is None and ARCH_TOKENS[multi]:
            parts.model_type = ARCH_TOKENS[multi]
    for token, code in _merge_numbers(tokens, low):
        parts.elements.append((token, code))
        if code == "A" and parts.model_type is None:
            parts.model_type = ARCH_TOKENS.get(token) or next(
                (ARCH_TOKENS[a] for a in sorted(ARCH_TOKENS, key=len, reverse=True)
                 if len(a) >= 4 and a in token and ARCH_TOKENS[a]), None) or None
        if code == "F":
            kind = REUSE.get(token, "quantization")
            if kind not in parts.reuse:
                parts.reuse.append(kind)
            bits = re.match(r"^(?:q|w|int)?(\d{1,2})", token)
            if bits and kind == "quantization" and token not in REUSE or token in ("int8", "int4"):
                parts.bits = int(bits.group(1)) if bits else parts.bits
    parts.codes = sorted({c for _, c in parts.elements})
    return parts
