"""``python -m onnxproof``."""

from onnxproof.cli import main

if __name__ == "__main__":
    main()
