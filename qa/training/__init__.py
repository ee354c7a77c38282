"""Training the span reader: datasets, made negatives, the loop, the dev evaluation, the card.

Run by ``qa train-reader`` (see ``qa/training/command.py``). Nothing here runs at question time.
"""
