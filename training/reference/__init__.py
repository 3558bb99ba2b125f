"""Scripts that ran the pretrained networks' own code once, to write the references the tests compare against."""
