# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo's product shots, drawn with Pillow: a pu'er cake, a tea tin,
a teapot, a cup or a box, and for a tea a cup of it brewed, each labelled
with the product's name."""
import functools
import io
import subprocess

from PIL import Image, ImageDraw, ImageFont

SIZE = 600
BACKGROUND = (246, 241, 232)
INK = (60, 40, 25)
# The colours of a category's tins and boxes: (body, band)
COLOURS = {
    "绿茶": ((92, 140, 70), (226, 214, 160)),
    "乌龙茶": ((40, 110, 110), (230, 200, 120)),
    "红茶": ((150, 40, 35), (235, 195, 110)),
    "母婴": ((120, 170, 220), (250, 250, 250)),
    }
# The colour of a category's tea in the cup
LIQUOR = {
    "普洱茶": (110, 35, 20),
    "绿茶": (190, 200, 90),
    "乌龙茶": (205, 140, 40),
    "红茶": (170, 50, 25),
    }
WRAPPER = (238, 226, 200)
CLAY = (135, 70, 45)
PORCELAIN = (250, 250, 252)


@functools.cache
def font_file():
    "Return the file of a font with Chinese glyphs, or None"
    try:
        found = subprocess.run(
            ['fc-list', ':lang=zh', 'file'],
            capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(found):
        try:
            ImageFont.truetype(line.rstrip(':'), 10)
        except OSError:
            continue
        return line.rstrip(':')
    return None


def font(size):
    "A Chinese font of the size, else Pillow's own (Latin only)"
    if font_file():
        return ImageFont.truetype(font_file(), size)
    return ImageFont.load_default(size)


def label(draw, name, code):
    """Write the name (the code without a Chinese font) on a card at the
    bottom of the picture"""
    text = name if font_file() else code
    size = 44
    while size > 16 and draw.textlength(text, font=font(size)) > SIZE - 60:
        size -= 2
    draw.rounded_rectangle(
        (20, SIZE - 110, SIZE - 20, SIZE - 30), 16, fill='white',
        outline=INK, width=2)
    draw.text((SIZE / 2, SIZE - 70), text, fill=INK, font=font(size),
        anchor='mm')


def tea_cake(draw, code):
    "A pu'er cake in its paper wrapper, with the maker's red stamp"
    centre, radius = (SIZE / 2, 240), 190
    box = (centre[0] - radius, centre[1] - radius * 0.8,
        centre[0] + radius, centre[1] + radius * 0.8)
    shadow = tuple(v + 12 for v in box)
    draw.ellipse(shadow, fill=(200, 190, 170))
    draw.ellipse(box, fill=WRAPPER, outline=INK, width=3)
    for step in range(1, 4):
        inset = step * 38
        draw.ellipse((box[0] + inset, box[1] + inset * 0.8,
                box[2] - inset, box[3] - inset * 0.8), outline=(200, 180, 140),
            width=2)
    draw.rectangle((centre[0] - 45, centre[1] - 45,
            centre[0] + 45, centre[1] + 45), fill=(190, 30, 30))
    draw.text(centre, "茶" if font_file() else code[:2], fill='white',
        font=font(56), anchor='mm')


def tea_tin(draw, category):
    "A round tin with a band in the category's colours"
    body, band = COLOURS.get(category, COLOURS["红茶"])
    left, right, top, bottom = 170, 430, 90, 400
    draw.ellipse((left + 10, bottom - 30, right + 20, bottom + 40),
        fill=(200, 190, 170))
    draw.rectangle((left, top + 25, right, bottom), fill=body)
    draw.ellipse((left, bottom - 25, right, bottom + 25), fill=body)
    draw.rectangle((left, 200, right, 290), fill=band)
    draw.ellipse((left, top, right, top + 50), fill=band, outline=INK,
        width=3)
    draw.line((left, top + 25, left, bottom), fill=INK, width=3)
    draw.line((right, top + 25, right, bottom), fill=INK, width=3)
    draw.arc((left, bottom - 25, right, bottom + 25), 0, 180, fill=INK,
        width=3)


def teapot(draw):
    "A Yixing clay teapot"
    draw.ellipse((130, 360, 470, 420), fill=(200, 190, 170))
    draw.polygon([(400, 260), (500, 170), (520, 180), (430, 320)],
        fill=CLAY, outline=INK)
    draw.arc((100, 210, 240, 350), 90, 270, fill=CLAY, width=22)
    draw.ellipse((150, 180, 450, 400), fill=CLAY, outline=INK, width=3)
    draw.ellipse((230, 160, 370, 210), fill=CLAY, outline=INK, width=3)
    draw.ellipse((285, 130, 315, 170), fill=CLAY, outline=INK, width=3)


def cup(draw):
    "A porcelain bowl with its lid and saucer"
    draw.ellipse((110, 330, 490, 420), fill=(220, 225, 235), outline=INK,
        width=3)
    draw.chord((170, 160, 430, 400), 0, 180, fill=PORCELAIN, outline=INK,
        width=3)
    draw.chord((180, 225, 420, 335), 180, 360, fill=PORCELAIN, outline=INK,
        width=3)
    draw.ellipse((280, 200, 320, 230), fill=PORCELAIN, outline=INK, width=3)
    for x in range(210, 400, 45):
        draw.ellipse((x, 300, x + 22, 322), fill=(40, 70, 150))


def brewed(draw, liquor):
    "A glass of the tea seen from above, on its saucer"
    draw.ellipse((100, 110, 500, 430), fill=(220, 225, 235), outline=INK,
        width=3)
    draw.ellipse((160, 150, 440, 390), fill=PORCELAIN, outline=INK,
        width=3)
    draw.ellipse((190, 175, 410, 365), fill=liquor)
    draw.ellipse((250, 215, 300, 250), fill=tuple(
            min(255, v + 60) for v in liquor))


def box(draw, category):
    "A carton in the category's colours"
    body, band = COLOURS.get(category, COLOURS["母婴"])
    draw.polygon([(150, 150), (380, 150), (450, 100), (220, 100)], fill=band,
        outline=INK)
    draw.polygon([(380, 150), (450, 100), (450, 350), (380, 400)],
        fill=tuple(v - 30 for v in body), outline=INK)
    draw.rectangle((150, 150, 380, 400), fill=body, outline=INK, width=3)
    draw.ellipse((215, 215, 315, 315), fill=band)


def shot(draw_goods, name, code):
    "Return the JPEG of the goods that draw_goods draws, labelled"
    image = Image.new('RGB', (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw_goods(draw)
    label(draw, name, code)
    data = io.BytesIO()
    image.save(data, format='JPEG', quality=85)
    return data.getvalue()


def pictures(code, name, category):
    "Return the product's shots as (description, JPEG), the goods first"
    if category == "普洱茶":
        goods = functools.partial(tea_cake, code=code)
    elif category == "茶具":
        goods = teapot if "壶" in name else cup
    elif category in LIQUOR:
        goods = functools.partial(tea_tin, category=category)
    else:
        goods = functools.partial(box, category=category)
    shots = [("商品", shot(goods, name, code))]
    if category in LIQUOR:
        shots.append(("茶汤", shot(
                    functools.partial(brewed, liquor=LIQUOR[category]),
                    name, code)))
    return shots
