"""A tiny, randomly initialised SmolVLM-shaped (Idefics3) model, built offline.

Tests and `bench/describe.py` use it to run the real `transformers` loading and
generation code without downloading anything: a config is saved with random
weights, a word-level tokenizer is trained on a few sentences with
`tokenizers`, and a SmolVLM-like chat template is attached. Its output is
gibberish by design; only the pipeline matters.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = [
    "<unk>",
    "<|im_start|>",
    "<end_of_utterance>",
    "<image>",
    "<fake_token_around_image>",
    "<global-img>",
    *[f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)],
]
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
CORPUS = [
    "User: Assistant: a white delivery truck pulled into the driveway",
    "a person walks to the front door with a package",
    "no activity . fedex ups amazon car van cat dog title description notable labels",
    'describe what is happening in one short sentence : , { } " true false null',
]


def build_tiny_model(folder: Path) -> Path:
    """Write a tiny random Idefics3 model + processor into folder; returns it."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
        PreTrainedTokenizerFast,
    )

    try:
        from transformers import Idefics3ImageProcessorPil as ImageProcessor
    except ImportError:  # older 5.x spelled it without the backend suffix
        from transformers import Idefics3ImageProcessor as ImageProcessor  # type: ignore[assignment]

    folder.mkdir(parents=True, exist_ok=True)
    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split("<", "merged_with_next"), pre_tokenizers.WhitespaceSplit()]
    )
    raw.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=SPECIAL))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        unk_token="<unk>",
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<unk>",
    )
    image_size, patch, scale = 32, 16, 2
    image_seq_len = (image_size // patch) ** 2 // scale**2
    image_processor = ImageProcessor(
        do_resize=True,
        size={"longest_edge": image_size},
        max_image_size={"longest_edge": image_size},
        do_image_splitting=False,
    )
    processor = Idefics3Processor(
        image_processor, tokenizer, image_seq_len=image_seq_len, chat_template=CHAT_TEMPLATE
    )
    vocab = len(tokenizer)
    config = Idefics3Config(
        image_token_id=int(tokenizer.convert_tokens_to_ids("<image>")),  # type: ignore[arg-type]
        scale_factor=scale,
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": image_size,
            "patch_size": patch,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": vocab,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "max_position_embeddings": 256,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
    )
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
