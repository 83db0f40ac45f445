"""The ``device`` parameter: where a network trains and predicts."""


def gpu_count():
    """How many GPUs the Keras backend sees."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    if keras.backend.backend() == "jax":
        import jax

        return sum(d.platform == "gpu" for d in jax.devices())
    return 0


def resolve_device(device):
    """``"auto"`` -> None (the backend's default), ``"cpu"`` -> ``("cpu", 0)``, ``"gpu:N"`` -> ``("gpu", N)``.

    Raises
    ------
    ValueError
        When a GPU is asked for and the backend sees none, or too few.
    """
    if device == "auto":
        return None
    if device == "cpu":
        return ("cpu", 0)
    index = int(device[4:]) if device.startswith("gpu:") else 0
    available = gpu_count()
    if index >= available:
        raise ValueError(
            f"device={device!r} asks for GPU {index}, but the backend sees {available} GPU(s). "
            "Use device='auto' or 'cpu', or install a GPU build of the backend.")
    return ("gpu", index)
