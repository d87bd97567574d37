"""Real checkpoint sizes per model family, written from the model cards and config.json files of well-known
checkpoints (named in each comment). transformers' default configs are not real sizes (its xlm-roberta default
vocabulary is BERT's 30,522; the real checkpoints use 250,002), and look-alike families (roberta / xlm-roberta /
camembert, wav2vec2 / hubert, llama / mistral / qwen2) differ mostly in these shapes, so training graphs are
generated from these presets and not from defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ENC = ("Model", "ForMaskedLM", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")
_DEC = ("Model", "ForCausalLM", "ForSequenceClassification")
_VIS = ("Model", "ForImageClassification")


@dataclass(frozen=True)
class Family:
    model_type: str
    prefix: str  # transformers class prefix, e.g. "XLMRoberta"
    heads: tuple[str, ...]
    presets: tuple[dict[str, Any], ...]
    extra: tuple[str, ...] = field(default=())  # full class names outside the prefix+head pattern

    def architectures(self) -> list[str]:
        return [self.prefix + h for h in self.heads] + list(self.extra)


def _bert_like(hidden: int, layers: int, heads: int, inter: int, vocab: int, **kw: Any) -> dict[str, Any]:
    return dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=inter,
                vocab_size=vocab, **kw)


_ROBERTA_POS = dict(max_position_embeddings=514, type_vocab_size=1)

FAMILIES: tuple[Family, ...] = (
    # bert-base-uncased, bert-large-uncased, bert-base-cased, bert-base-multilingual-cased, bert-base-chinese
    Family("bert", "Bert", _ENC, (
        _bert_like(768, 12, 12, 3072, 30522), _bert_like(1024, 24, 16, 4096, 30522),
        _bert_like(768, 12, 12, 3072, 28996), _bert_like(768, 12, 12, 3072, 119547),
        _bert_like(768, 12, 12, 3072, 21128))),
    # roberta-base, roberta-large, distilroberta-base
    Family("roberta", "Roberta", _ENC, (
        _bert_like(768, 12, 12, 3072, 50265, **_ROBERTA_POS), _bert_like(1024, 24, 16, 4096, 50265, **_ROBERTA_POS),
        _bert_like(768, 6, 12, 3072, 50265, **_ROBERTA_POS))),
    # xlm-roberta-base, xlm-roberta-large
    Family("xlm-roberta", "XLMRoberta", _ENC, (
        _bert_like(768, 12, 12, 3072, 250002, **_ROBERTA_POS),
        _bert_like(1024, 24, 16, 4096, 250002, **_ROBERTA_POS))),
    # camembert-base, camembert/camembert-large
    Family("camembert", "Camembert", _ENC, (
        _bert_like(768, 12, 12, 3072, 32005, **_ROBERTA_POS),
        _bert_like(1024, 24, 16, 4096, 32005, **_ROBERTA_POS))),
    # distilbert-base-uncased, distilbert-base-multilingual-cased
    Family("distilbert", "DistilBert", _ENC, (
        dict(dim=768, n_layers=6, n_heads=12, hidden_dim=3072, vocab_size=30522),
        dict(dim=768, n_layers=6, n_heads=12, hidden_dim=3072, vocab_size=119547))),
    # albert-base-v2, albert-large-v2, albert-xlarge-v2
    Family("albert", "Albert", _ENC, (
        _bert_like(768, 12, 12, 3072, 30000, embedding_size=128),
        _bert_like(1024, 24, 16, 4096, 30000, embedding_size=128),
        _bert_like(2048, 24, 16, 8192, 30000, embedding_size=128))),
    # google/electra-small-discriminator, electra-base-discriminator, electra-large-discriminator
    Family("electra", "Electra", _ENC, (
        _bert_like(256, 12, 4, 1024, 30522, embedding_size=128),
        _bert_like(768, 12, 12, 3072, 30522, embedding_size=768),
        _bert_like(1024, 24, 16, 4096, 30522, embedding_size=1024))),
    # microsoft/deberta-base, microsoft/deberta-large
    Family("deberta", "Deberta", _ENC, (
        _bert_like(768, 12, 12, 3072, 50265, relative_attention=True, pos_att_type=["c2p", "p2c"],
                   max_relative_positions=-1, position_biased_input=False),
        _bert_like(1024, 24, 16, 4096, 50265, relative_attention=True, pos_att_type=["c2p", "p2c"],
                   max_relative_positions=-1, position_biased_input=False))),
    # microsoft/deberta-v3-base, -v3-large, -v3-small, -v3-xsmall
    Family("deberta-v2", "DebertaV2", _ENC, tuple(
        _bert_like(h, n, a, i, 128100, relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=256,
                   norm_rel_ebd="layer_norm", share_att_key=True, max_relative_positions=-1,
                   position_biased_input=False)
        for h, n, a, i in ((768, 12, 12, 3072), (1024, 24, 16, 4096), (768, 6, 12, 3072), (384, 12, 6, 1536)))),
    # microsoft/mpnet-base
    Family("mpnet", "MPNet", _ENC, (_bert_like(768, 12, 12, 3072, 30527, max_position_embeddings=514),)),
    # allenai/longformer-base-4096, longformer-large-4096
    Family("longformer", "Longformer", _ENC, (
        _bert_like(768, 12, 12, 3072, 50265, max_position_embeddings=4098, attention_window=[512] * 12),
        _bert_like(1024, 24, 16, 4096, 50265, max_position_embeddings=4098, attention_window=[512] * 24))),
    # gpt2, gpt2-medium, gpt2-large, distilgpt2
    Family("gpt2", "GPT2", ("Model", "LMHeadModel", "ForSequenceClassification", "ForTokenClassification"), tuple(
        dict(n_embd=e, n_layer=n, n_head=h, vocab_size=50257, n_positions=1024)
        for e, n, h in ((768, 12, 12), (1024, 24, 16), (1280, 36, 20), (768, 6, 12)))),
    # EleutherAI/gpt-neo-125m, gpt-neo-1.3B
    Family("gpt_neo", "GPTNeo", _DEC, tuple(
        dict(hidden_size=e, num_layers=n, num_heads=h, vocab_size=50257, max_position_embeddings=2048,
             attention_types=[[["global", "local"], n // 2]])
        for e, n, h in ((768, 12, 12), (2048, 24, 16)))),
    # EleutherAI/pythia-160m, pythia-410m, pythia-1b
    Family("gpt_neox", "GPTNeoX", _DEC, tuple(
        dict(hidden_size=e, num_hidden_layers=n, num_attention_heads=h, intermediate_size=4 * e, vocab_size=50304,
             rotary_pct=0.25, max_position_embeddings=2048)
        for e, n, h in ((768, 12, 12), (1024, 24, 16), (2048, 16, 8)))),
    # facebook/opt-125m, opt-350m, opt-1.3b
    Family("opt", "OPT", _DEC, (
        dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, ffn_dim=3072, vocab_size=50272,
             word_embed_proj_dim=768),
        dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, ffn_dim=4096, vocab_size=50272,
             word_embed_proj_dim=512, do_layer_norm_before=False),
        dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=32, ffn_dim=8192, vocab_size=50272,
             word_embed_proj_dim=2048))),
    # bigscience/bloom-560m, bloom-1b1
    Family("bloom", "Bloom", _DEC, (
        dict(hidden_size=1024, n_layer=24, n_head=16, vocab_size=250880),
        dict(hidden_size=1536, n_layer=24, n_head=16, vocab_size=250880))),
    # meta-llama/Llama-2-7b-hf, Llama-2-13b-hf, Meta-Llama-3-8B, TinyLlama-1.1B
    Family("llama", "Llama", _DEC, (
        dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
             intermediate_size=11008, vocab_size=32000),
        dict(hidden_size=5120, num_hidden_layers=40, num_attention_heads=40, num_key_value_heads=40,
             intermediate_size=13824, vocab_size=32000),
        dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
             intermediate_size=14336, vocab_size=128256, rope_theta=500000.0),
        dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
             intermediate_size=5632, vocab_size=32000))),
    # mistralai/Mistral-7B-v0.1 (and v0.3's 32,768 vocabulary)
    Family("mistral", "Mistral", _DEC, (
        dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
             intermediate_size=14336, vocab_size=32000, sliding_window=4096),
        dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
             intermediate_size=14336, vocab_size=32768))),
    # Qwen/Qwen2-0.5B, Qwen2-1.5B, Qwen2-7B
    Family("qwen2", "Qwen2", _DEC, (
        dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
             intermediate_size=4864, vocab_size=151936),
        dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
             intermediate_size=8960, vocab_size=151936),
        dict(hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
             intermediate_size=18944, vocab_size=152064))),
    # t5-small, t5-base, t5-large
    Family("t5", "T5", ("Model", "ForConditionalGeneration", "EncoderModel"), tuple(
        dict(d_model=d, d_ff=f, num_layers=n, num_heads=h, d_kv=64, vocab_size=32128)
        for d, f, n, h in ((512, 2048, 6, 8), (768, 3072, 12, 12), (1024, 4096, 24, 16)))),
    # google/mt5-small, mt5-base
    Family("mt5", "MT5", ("Model", "ForConditionalGeneration", "EncoderModel"), tuple(
        dict(d_model=d, d_ff=f, num_layers=n, num_heads=h, d_kv=64, vocab_size=250112,
             feed_forward_proj="gated-gelu", tie_word_embeddings=False)
        for d, f, n, h in ((512, 1024, 8, 6), (768, 2048, 12, 12)))),
    # facebook/bart-base, bart-large
    Family("bart", "Bart", ("Model", "ForConditionalGeneration", "ForSequenceClassification"), tuple(
        dict(d_model=d, encoder_layers=n, decoder_layers=n, encoder_attention_heads=h, decoder_attention_heads=h,
             encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d, vocab_size=50265)
        for d, n, h in ((768, 6, 12), (1024, 12, 16)))),
    # facebook/mbart-large-cc25, mbart-large-50
    Family("mbart", "MBart", ("Model", "ForConditionalGeneration"), tuple(
        dict(d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
             decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, vocab_size=v)
        for v in (250027, 250054))),
    # Helsinki-NLP/opus-mt-en-de, opus-mt-en-fr
    Family("marian", "Marian", ("Model",), tuple(
        dict(d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
             encoder_ffn_dim=2048, decoder_ffn_dim=2048, vocab_size=v, decoder_vocab_size=v)
        for v in (58101, 59514)), extra=("MarianMTModel",)),
    # google/vit-base-patch16-224, vit-large-patch16-224
    Family("vit", "ViT", _VIS, (
        _bert_like(768, 12, 12, 3072, 0, image_size=224, patch_size=16),
        _bert_like(1024, 24, 16, 4096, 0, image_size=224, patch_size=16))),
    # facebook/deit-tiny/small/base-patch16-224
    Family("deit", "DeiT", _VIS, tuple(
        _bert_like(h, 12, a, 4 * h, 0, image_size=224, patch_size=16)
        for h, a in ((192, 3), (384, 6), (768, 12)))),
    # microsoft/beit-base-patch16-224
    Family("beit", "Beit", _VIS, (
        _bert_like(768, 12, 12, 3072, 8192, image_size=224, patch_size=16, use_relative_position_bias=True,
                   use_mean_pooling=True, layer_scale_init_value=0.1),)),
    # microsoft/swin-tiny-patch4-window7-224, swin-base-patch4-window7-224
    Family("swin", "Swin", _VIS, (
        dict(embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], image_size=224, window_size=7),
        dict(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], image_size=224, window_size=7))),
    # facebook/convnext-tiny-224, convnext-base-224
    Family("convnext", "ConvNext", _VIS, (
        dict(hidden_sizes=[96, 192, 384, 768], depths=[3, 3, 9, 3]),
        dict(hidden_sizes=[128, 256, 512, 1024], depths=[3, 3, 27, 3]))),
    # microsoft/resnet-50, resnet-18
    Family("resnet", "ResNet", _VIS, (
        dict(depths=[3, 4, 6, 3], hidden_sizes=[256, 512, 1024, 2048], layer_type="bottleneck"),
        dict(depths=[2, 2, 2, 2], hidden_sizes=[64, 128, 256, 512], layer_type="basic"))),
    # facebook/wav2vec2-base-960h, wav2vec2-large-960h-lv60-self
    Family("wav2vec2", "Wav2Vec2", ("Model", "ForCTC", "ForSequenceClassification"), (
        _bert_like(768, 12, 12, 3072, 32, feat_extract_norm="group", do_stable_layer_norm=False),
        _bert_like(1024, 24, 16, 4096, 32, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True))),
    # facebook/hubert-base-ls960, hubert-large-ls960-ft
    Family("hubert", "Hubert", ("Model", "ForCTC", "ForSequenceClassification"), (
        _bert_like(768, 12, 12, 3072, 32, feat_extract_norm="group", do_stable_layer_norm=False),
        _bert_like(1024, 24, 16, 4096, 32, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True))),
    # openai/whisper-tiny, whisper-base, whisper-small
    Family("whisper", "Whisper", ("Model", "ForConditionalGeneration"), tuple(
        dict(d_model=d, encoder_layers=n, decoder_layers=n, encoder_attention_heads=h, decoder_attention_heads=h,
             encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d, vocab_size=51865, num_mel_bins=80)
        for d, n, h in ((384, 4, 6), (512, 6, 8), (768, 12, 12)))),
)

#: Families that share modelling code and differ mostly in shapes; accuracy is reported on them separately.
LOOK_ALIKES: tuple[frozenset[str], ...] = (
    frozenset({"roberta", "xlm-roberta", "camembert"}),
    frozenset({"wav2vec2", "hubert"}),
    frozenset({"llama", "mistral", "qwen2"}),
    frozenset({"vit", "deit"}),
    # electra-base/large discriminators have bert-base/large's exact sizes; only the pooler tells them apart.
    frozenset({"bert", "electra"}),
    frozenset({"t5", "mt5"}),
    frozenset({"bart", "mbart", "marian"}),
)


def look_alike_group(model_type: str) -> frozenset[str] | None:
    return next((g for g in LOOK_ALIKES if model_type in g), None)


def family(model_type: str) -> Family | None:
    return next((f for f in FAMILIES if f.model_type == model_type), None)
