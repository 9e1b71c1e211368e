"""The words, model, sampler, VAE and camera names the sample cases draw from (data only).

Prompts, seeds and file names are drawn from these lists with seeded generators, so changing
any list (even its order) changes the sample folder a given seed writes.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

QUALITY = ["masterpiece", "best quality", "high quality", "ultra detailed", "highres", "absurdres",
           "8k", "photorealistic", "raw photo", "intricate details", "sharp focus", "very aesthetic"]
SUBJECTS = ["1girl", "1boy", "young woman", "old man", "knight", "samurai", "witch", "wizard", "elf",
            "robot", "astronaut", "pirate", "dragon", "cat", "fox", "wolf", "owl", "mermaid", "detective"]
DESCRIPTORS = ["long hair", "silver hair", "blue eyes", "freckles", "smile", "looking at viewer",
               "full body", "upper body", "portrait", "dynamic pose", "holding sword", "armor", "cloak",
               "kimono", "hood", "glasses", "scarf", "flowers in hair"]
SETTINGS = ["castle", "forest", "cyberpunk city", "beach", "mountains", "snowy village", "library",
            "cafe", "temple", "ruins", "underwater", "cathedral", "rooftop", "harbor", "lighthouse"]
STYLES = ["oil painting", "watercolor", "digital painting", "concept art", "anime style", "ukiyo-e",
          "cinematic", "studio ghibli", "art nouveau", "dark fantasy", "by greg rutkowski",
          "trending on artstation", "35mm photograph", "kodak portra 400"]
LIGHTING = ["volumetric lighting", "dramatic lighting", "soft lighting", "rim light", "golden hour",
            "moonlight", "neon lights", "god rays", "bokeh", "depth of field", "fog",
            "subsurface scattering", "cinematic lighting"]
NEGATIVE = ["worst quality", "low quality", "lowres", "bad anatomy", "bad hands", "extra fingers",
            "missing fingers", "deformed", "blurry", "jpeg artifacts", "watermark", "signature", "text",
            "cropped", "out of frame", "poorly drawn face", "easynegative", "badhandv4", "monochrome"]
LORAS = ["add_detail", "epiNoiseoffset_v2", "more_details", "LowRA", "ghibli_style_offset", "film_grain_v1"]
UPSCALERS = ["Latent", "4x-UltraSharp", "R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B"]
SD15_MODELS = ["dreamshaper_8", "realisticVisionV51_v51VAE", "revAnimated_v122EOL", "majicmixRealistic_v7",
               "epicrealism_naturalSinRC1VAE", "v1-5-pruned-emaonly"]
SDXL_MODELS = ["sd_xl_base_1.0", "juggernautXL_v9Rundiffusionphoto2", "animagineXLV31_v31",
               "ponyDiffusionV6XL_v6StartWithThisOne"]
OLD_SAMPLERS = ["Euler a", "Euler", "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ 2M SDE Karras", "DDIM", "UniPC"]
NEW_SAMPLERS = [("DPM++ 2M", "Karras"), ("DPM++ SDE", "Karras"), ("Euler a", "Automatic"),
                ("DPM++ 2M SDE", "Exponential"), ("Euler", "Automatic")]
VAES = ["vae-ft-mse-840000-ema-pruned.safetensors", "sdxl_vae.safetensors", "kl-f8-anime2.ckpt"]
A1111_VERSIONS = ["v1.6.0", "v1.7.0", "v1.8.0", "v1.9.4", "v1.10.1"]
FORGE_VERSION = "f2.0.1v1.10.1-previous-224-g900196889"
COMFY_SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde", "uni_pc"]
COMFY_SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform"]
CAMERAS = [("Canon", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON D850"), ("SONY", "ILCE-7M3")]
