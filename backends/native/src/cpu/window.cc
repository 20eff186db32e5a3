// Convolution and pooling geometry from a call's ints, checked against the tensors' shapes.
// Core checks all of this before dispatch; these checks turn a bug above into an Error instead
// of a read outside a buffer.
#include <string>

#include "conv.h"

namespace kiln::cpu {
namespace {

[[noreturn]] void bad(const char* op, const std::string& what) { internal_error(std::string(op) + ": " + what); }

// The spatial rank from ints[0], checked against the attribute count (`per_axis` lists of d,
// then `extra` scalars) and the tensors' rank.
int spatial_rank(const char* op, const Call& c, int per_axis, int extra, const TensorRef& x) {
  if (c.num_ints < 1) bad(op, "no geometry");
  const int d = c.ints[0];
  if (d < 1 || d > kMaxSpatial) bad(op, "spatial rank " + std::to_string(d));
  if (c.num_ints != 1 + per_axis * d + extra) bad(op, "expected " + std::to_string(1 + per_axis * d + extra) + " geometry ints");
  if (x.rank != d + 2) bad(op, "x of rank " + std::to_string(x.rank) + " for " + std::to_string(d) + " spatial axes");
  return d;
}

// A list of d positive (or, for pads, non-negative) ints from ints[at].
void read_axes(const char* op, const Call& c, int at, int d, int64_t min, const char* what, int64_t* into) {
  for (int a = 0; a < d; a++) {
    into[a] = c.ints[at + a];
    if (into[a] < min) bad(op, std::string(what) + " " + std::to_string(into[a]) + " on axis " + std::to_string(a));
  }
}

void same_dim(const char* op, const TensorRef& t, int axis, int64_t want, const char* what) {
  if (t.dim(axis) != want) bad(op, std::string(what) + " is " + std::to_string(t.dim(axis)) + ", expected " + std::to_string(want));
}

}  // namespace

ConvGeometry conv_geometry(const char* op, const Call& c, const TensorRef& x, const TensorRef& w, const TensorRef& y) {
  const int d = spatial_rank(op, c, 3, 2, x);
  if (w.rank != d + 2 || y.rank != d + 2) bad(op, "w and the output must have rank " + std::to_string(d + 2));
  ConvGeometry g;
  Window& win = g.win;
  win.d = d;
  read_axes(op, c, 1, d, 1, "stride", win.stride);
  read_axes(op, c, 1 + d, d, 1, "dilation", win.dilation);
  read_axes(op, c, 1 + 2 * d, d, 0, "padding", win.pad);
  g.groups = c.ints[1 + 3 * d];
  g.activation = c.ints[2 + 3 * d];
  g.batch = x.dim(0);
  g.channels = x.dim(d + 1);
  g.filters = w.dim(d + 1);
  if (g.groups < 1 || g.channels % g.groups != 0 || g.filters % g.groups != 0) {
    bad(op, std::to_string(g.groups) + " groups for " + std::to_string(g.channels) + " channels and " + std::to_string(g.filters) + " filters");
  }
  same_dim(op, w, d, g.group_channels(), "w's channels per group");
  same_dim(op, y, 0, g.batch, "the output's batch");
  same_dim(op, y, d + 1, g.filters, "the output's filters");
  for (int a = 0; a < d; a++) {
    win.in[a] = x.dim(a + 1);
    win.out[a] = y.dim(a + 1);
    win.size[a] = w.dim(a);
    if (win.size[a] < 1) bad(op, "kernel size 0 on axis " + std::to_string(a));
  }
  return g;
}

Window pool_window(const char* op, const Call& c, const TensorRef& x, const TensorRef& y) {
  const int d = spatial_rank(op, c, 3, 0, x);
  if (y.rank != d + 2) bad(op, "the output must have rank " + std::to_string(d + 2));
  same_dim(op, y, 0, x.dim(0), "the output's batch");
  same_dim(op, y, d + 1, x.dim(d + 1), "the output's channels");
  Window win;
  win.d = d;
  read_axes(op, c, 1, d, 1, "window", win.size);
  read_axes(op, c, 1 + d, d, 1, "stride", win.stride);
  read_axes(op, c, 1 + 2 * d, d, 0, "padding", win.pad);
  for (int a = 0; a < d; a++) {
    win.in[a] = x.dim(a + 1);
    win.out[a] = y.dim(a + 1);
    win.dilation[a] = 1;
    // Every window must hold an input position (an empty max or mean has no value). Windows
    // move right with o, so only the first can lie wholly before the input, the last after it.
    const int64_t last = win.out[a] - 1;
    if (last >= 0 && (win.in[a] == 0 || win.at(a, 0, win.size[a] - 1) < 0 || win.at(a, last, 0) >= win.in[a])) {
      bad(op, "a window on axis " + std::to_string(a) + " holds no input position");
    }
  }
  return win;
}

}  // namespace kiln::cpu
