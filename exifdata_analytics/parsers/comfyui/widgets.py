"""The widget order of ComfyUI's core nodes: how a UI workflow's ``widgets_values`` list is named.

A UI workflow stores a node's settings as a bare list in ComfyUI's ``INPUT_TYPES`` order; the
names come from here (other nodes are named by the widget inputs the workflow lists, when their
count matches). A ``+`` marks a seed-like widget that the UI follows with a "control after
generate" value (``randomize``, ``fixed``…), which is skipped.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

WIDGETS: dict[str, tuple[str, ...]] = {
    # samplers and their parts
    "KSampler": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
                         "end_at_step", "return_with_leftover_noise"),
    "SamplerCustom": ("add_noise", "noise_seed+", "cfg"),
    "RandomNoise": ("noise_seed+",),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "SDTurboScheduler": ("steps", "denoise"),
    "BetaSamplingScheduler": ("steps", "alpha", "beta"),
    "Flux2Scheduler": ("steps", "width", "height"),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "FluxGuidance": ("guidance",),
    # loaders
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CheckpointLoader": ("config_name", "ckpt_name"),
    "unCLIPCheckpointLoader": ("ckpt_name",),
    "ImageOnlyCheckpointLoader": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "UnetLoaderGGUF": ("unet_name",),
    "CLIPLoader": ("clip_name", "type", "device"),
    "DualCLIPLoader": ("clip_name1", "clip_name2", "type", "device"),
    "VAELoader": ("vae_name",),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "UpscaleModelLoader": ("model_name",),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    # text encoders and conditioning
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g",
                           "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "TextEncodeQwenImageEditPlus": ("prompt",),
    "ConditioningSetArea": ("width", "height", "x", "y", "strength"),
    "ControlNetApply": ("strength",),
    "ControlNetApplyAdvanced": ("strength", "start_percent", "end_percent"),
    # latents (image and video)
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "EmptyFlux2LatentImage": ("width", "height", "batch_size"),
    "EmptyChromaRadianceLatentImage": ("width", "height", "batch_size"),
    "EmptyHunyuanLatentVideo": ("width", "height", "length", "batch_size"),
    "Wan22ImageToVideoLatent": ("width", "height", "length", "batch_size"),
    "WanVaceToVideo": ("width", "height", "length", "batch_size", "strength"),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
    "ImageScale": ("upscale_method", "width", "height", "crop"),
    "ImageScaleBy": ("upscale_method", "scale_by"),
    # values, text and switches
    "PrimitiveNode": ("value+",),
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value+",),
    "PrimitiveFloat": ("value",),
    "PrimitiveBoolean": ("value",),
    "StringConcatenate": ("string_a", "string_b", "delimiter"),
    "StringReplace": ("string", "find", "replace"),
    "ComfySwitchNode": ("switch",),
    "SaveImage": ("filename_prefix",),
}
CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
# Classes whose values the tracer knows how to read (for error messages naming the others)
CORE_WIDGETS = frozenset(WIDGETS) | {"VAEDecode", "VAEEncode", "SaveImage", "PreviewImage", "LoadImage",
                                     "ConditioningCombine", "ConditioningConcat", "Reroute", "PrimitiveNode"}
