"""Makes the inputs of the trained-model test (tests/onnx/test_onnx_trained.py): one line of
text drawn with DejaVu Sans, preprocessed the way PaddleOCR feeds its ONNX models.

    /usr/bin/python3 tools/reference/onnx-ocr-inputs.py tests/onnx/fixtures

Writes ocr_text.png (the picture), ocr_cls_up.npy and ocr_cls_down.npy (the direction
classifier's 1x3x48x192 input, upright and turned by 180 degrees), and ocr_det.npy (the text
detector's 1x3x96x320 input: the line on a white page, ImageNet mean/std)."""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

out = sys.argv[1]
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
text = "Offshoot 2026"
line = Image.new("RGB", (int(font.getlength(text)) + 16, 48), "white")
ImageDraw.Draw(line).text((8, 4), text, font=font, fill="black")
line.save(os.path.join(out, "ocr_text.png"))


def cls_input(im):
    """Height 48 keeping the aspect, at most 192 wide, (x/255 - 0.5)/0.5, zeros to the right."""
    width = min(192, int(np.ceil(48 * im.width / im.height)))
    a = np.asarray(im.resize((width, 48), Image.BILINEAR), np.float32).transpose(2, 0, 1)
    x = np.zeros((1, 3, 48, 192), np.float32)
    x[0, :, :, :width] = (a / 255.0 - 0.5) / 0.5
    return x


np.save(os.path.join(out, "ocr_cls_up.npy"), cls_input(line))
np.save(os.path.join(out, "ocr_cls_down.npy"), cls_input(line.rotate(180)))

# The detector: the line at (16, 24) on a 320x96 white page, normalised with ImageNet's
# mean and std as PaddleOCR's DetResizeForTest + NormalizeImage do.
page = Image.new("RGB", (320, 96), "white")
page.paste(line, (16, 24))
a = np.asarray(page, np.float32) / 255.0
a = (a - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
np.save(os.path.join(out, "ocr_det.npy"), a.transpose(2, 0, 1)[None].astype(np.float32))
print("text box on the detector's page: x 16..%d, y 24..72" % (16 + line.width))
