"""The HTTP app over ``qa/``: it translates requests into calls of the library and back."""
