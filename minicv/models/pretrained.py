"""minicv ships no pretrained weights and downloads nothing.

torchvision's builders take ``weights=`` (and the older ``pretrained=``, ``progress=``);
code written for them passes these to minicv's builders too. ``weights=None``,
``pretrained=False`` and ``progress`` are accepted and mean what they mean there: a
randomly initialised model. Asking for weights raises a ValueError that says how to load
your own instead, rather than a TypeError about an unexpected keyword.
"""
import functools


def no_pretrained_weights(builder):
    """Decorate a zoo builder to accept torchvision's ``weights``/``pretrained``/``progress``
    keywords and refuse any request for weights with a message that names the fix.

    Example::

        resnet18(weights=None)              # a fresh model, as in torchvision
        resnet18(weights="IMAGENET1K_V1")   # ValueError: minicv downloads no weights...
    """
    @functools.wraps(builder)
    def build(*args, weights=None, pretrained=False, progress=True, **kwargs):
        if weights is not None or pretrained:
            asked = f"weights={weights!r}" if weights is not None else "pretrained=True"
            raise ValueError(
                f"{builder.__name__}({asked}): minicv ships no pretrained weights and "
                f"downloads nothing. Build the model without weights and load a checkpoint: "
                f"model = {builder.__name__}(); model.load_state_dict(mc.load(path)) "
                f"(docs/checkpoints.md shows how to convert a PyTorch state_dict whose keys "
                f"match the minicv model's)")
        return builder(*args, **kwargs)
    return build
