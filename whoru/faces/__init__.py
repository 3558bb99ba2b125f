"""The face pipeline shared by training, evaluation and serving: detect, align, predict."""
