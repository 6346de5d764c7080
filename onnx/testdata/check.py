"""Runs ONNX's checker, with full checking (shape inference included), on every model named."""
import sys
import onnx

for path in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(path), full_check=True)
    print("ok", path)
