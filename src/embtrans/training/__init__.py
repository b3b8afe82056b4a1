"""Training a translator: the LightningModule, its objectives, number formats, schedules, resume points
and the validation search, and train() (run.py), which one job of a sweep calls."""
