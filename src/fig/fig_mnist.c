/* fig_mnist.c — placeholder */
#include "fig/figures.h"
bd_status fig_make_optim_mnist(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
bd_status fig_make_init_mnist(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
bd_status fig_make_bn_mnist(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
bd_status fig_make_overfit(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
bd_status fig_make_hpsearch(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
bd_status fig_make_curve(fig_ctx *ctx) { return bd_error(BD_ERR_ARG, "todo"); }
