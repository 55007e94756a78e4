// sample_digits.js MNIST_DIR OUT_DIR — sample digits for the tutorial's
// `badak predict`: the first five MNIST test images as 28x28 PNG files
// (test_INDEX_LABEL.png, white on black as MNIST stores them) and
// my_digit.png, one of them made to look photographed on paper: dark ink on
// light, unevenly lit paper, larger and off-centre (badak predict inverts
// it and centres it as MNIST was made). Run by scripts/setup.sh with node,
// which setup already needs for MNIST; writes each file under a temporary
// name and renames it.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const CRC = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});
function crc32(buf) {
    let c = 0xffffffff;
    for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
    const len = Buffer.alloc(4), crc = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
}
// an 8-bit grayscale PNG of w x h from px (row-major, 0 black .. 255 white)
function writePng(file, w, h, px) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(h, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // grayscale
    const raw = Buffer.alloc((w + 1) * h);
    for (let y = 0; y < h; y++) {
        raw[y * (w + 1)] = 0; // filter: none
        for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = px[y * w + x];
    }
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
    const tmp = path.join(path.dirname(file), '.' + path.basename(file) + '.tmp');
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, file);
}

const [mnist, out] = process.argv.slice(2);
const images = fs.readFileSync(path.join(mnist, 't10k-images-idx3-ubyte'));
const labels = fs.readFileSync(path.join(mnist, 't10k-labels-idx1-ubyte'));
if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049)
    throw new Error(mnist + ': not MNIST idx files');
fs.mkdirSync(out, {recursive: true});
const digit = (i) => images.subarray(16 + i * 784, 16 + (i + 1) * 784);
for (let i = 0; i < 5; i++)
    writePng(path.join(out, `test_${i}_${labels[8 + i]}.png`), 28, 28, digit(i));

// "photographed": test image 1 (a 2), 4x larger (bilinear), dark on paper
// that is lighter at the top left, placed off-centre on 160 x 150
const src = digit(1), W = 160, H = 150, S = 4, ox = 30, oy = 14;
const at = (x, y) => (x < 0 || y < 0 || x > 27 || y > 27) ? 0 : src[y * 28 + x];
const photo = new Uint8Array(W * H);
for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
        const sx = (x - ox) / S - 0.5, sy = (y - oy) / S - 0.5;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        const ink = ((1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0) +
                     (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1)) / 255;
        const paper = 235 - 40 * (x + y) / (W + H);
        photo[y * W + x] = Math.round(paper * (1 - 0.8 * ink));
    }
writePng(path.join(out, 'my_digit.png'), W, H, photo);
console.log(`setup: sample digits ok (${out}: test_0_${labels[8]}.png .. test_4_${labels[12]}.png, ` +
            `my_digit.png: a ${labels[9]} as if photographed)`);
