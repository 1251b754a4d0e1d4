/* Internal structures of the model bytecode (graph.c, program.c, autodiff.c, liveness.c, exec.c,
 * dump.c). */
#ifndef NC_GRAPH_INTERNAL_H
#define NC_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nc/nc.h"

enum {
    NC_OPF_BWD = 1u << 0,
    NC_OPF_ACC0 = 1u << 1,
    NC_OPF_ACC1 = 1u << 2,
    NC_OPF_ACC2 = 1u << 3,
    NC_OPF_IDX1 = 1u << 4
};
#define NC_OPF_ACC(k) (NC_OPF_ACC0 << (k))

typedef enum nc_opcode {
#define OP(name, nin, nout, flags) NC_OP_##name,
#include "ops.def"
#undef OP
    NC_OP_COUNT
} nc_opcode;

typedef struct nc_op_info {
    const char *name;
    uint8_t n_in, n_out;
    uint32_t flags;
} nc_op_info;
extern const nc_op_info nc_op_table[NC_OP_COUNT];

#define NC_MAX_IN 5
#define NC_MAX_OUT 3

/* Value kinds. PARAM and GRAD live at the same float offset of the parameter and gradient
 * allocations; INPUT is bound by the caller for each run; ACT lives in the planned workspace. */
typedef enum nc_vkind { NC_V_PARAM, NC_V_GRAD, NC_V_INPUT, NC_V_ACT } nc_vkind;
typedef enum nc_vtype { NC_T_F32, NC_T_U32 } nc_vtype;

enum { NC_VF_OUTPUT = 1u << 0, NC_VF_LOSS = 1u << 1 };

typedef struct nc_gvalue {
    uint8_t kind, type, flags;
    uint8_t init;      /* PARAM: nc_init */
    float init_a;      /* PARAM: the init constant */
    size_t rows, cols;
    size_t off;        /* PARAM/GRAD: floats into params/grads; ACT: floats into the workspace */
    int grad;          /* value holding d loss / d this, or -1 */
    int grad_of;       /* GRAD and gradient activations: the value differentiated, else -1 */
} nc_gvalue;

typedef struct nc_ginstr {
    uint16_t op;
    uint8_t acc;       /* bit k: output k accumulates (only where the op's NC_OPF_ACCk is set) */
    int16_t step;      /* time step this instruction belongs to; -1 = time-parallel (segment) */
    int in[NC_MAX_IN], out[NC_MAX_OUT]; /* -1 where unused */
    float f;
    size_t a, b;
} nc_ginstr;

struct nc_graph {
    nc_status err;     /* sticky: the first error; builders become no-ops after it */
    uint64_t seed;
    nc_gvalue *val;
    int nval, capval;
    nc_ginstr *ins;
    int nins, capins;
    size_t nparam;     /* floats in the parameter allocation */
    int nparams_declared;
    int loss;
    int step;          /* step tag of the instructions built next (nc_g_step); -1 = time-parallel */
    int *state_in, *state_out; /* nc_g_state pairs, in declaration order */
    int nstate, capstate;
};

struct nc_program {
    nc_gvalue *val;
    int nval;
    nc_ginstr *ins;
    int nins, nfwd;    /* instructions [0, nfwd) are the forward pass */
    size_t nparam;
    int loss;
    float *params, *grads, *ws;
    const void **bound; /* per value: the caller's buffer for INPUT values */
    size_t ws_floats, naive_floats;
    int borrowed;       /* params belong to another program (nc_program_share_params) */
    int forward_done;   /* nc_program_forward succeeded and no backward ran since */
    void (*trace)(void *ctx, int instr, int phase); /* nc_program_set_trace; NULL = off */
    void *trace_ctx;
};

/* Shared helpers. */
int nc_graph_add_value(struct nc_graph *g, nc_vkind kind, nc_vtype type, size_t rows,
                       size_t cols);
int nc_graph_add_instr(struct nc_graph *g, const nc_ginstr *in);
nc_status nc_autodiff(struct nc_graph *g);
nc_status nc_plan(nc_program *p, int no_reuse);
int nc_no_reuse_env(void);

/* nc_graph_timestep that also tells, for every value v of g, where the one-step program holds it:
 * origin[v] = NC_ORIGIN_INV (time-invariant: src[v] holds it at every step), NC_ORIGIN_TP (time-
 * parallel: src[v] holds its S rows of the step just run), t >= 0 (written by step t: src[v]
 * holds it when the one-step program has just run as step t), NC_ORIGIN_WINDOW (a key/value
 * concat of mem*S + T*S rows: src[v] holds (mem+1)*S rows, at step 0 the first (mem+1)*S of the
 * segment's, at step t > 0 its last S rows are the segment's rows (mem+t)*S ..), NC_ORIGIN_NONE
 * (no counterpart: inputs, the loss, sums over rows, scratch); *T the steps of a segment. Used by
 * feed.c. */
enum { NC_ORIGIN_WINDOW = -4, NC_ORIGIN_NONE = -3, NC_ORIGIN_INV = -2, NC_ORIGIN_TP = -1 };
nc_status nc_timestep_origins(const nc_graph *g, nc_graph **out, int *map, int *origin, int *src,
                              size_t *T);

#endif
