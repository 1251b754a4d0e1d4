/* Checks shared by the per-timestep conversion tests (test_graph_timestep, test_graph_attention). */
#ifndef NNZIP_TESTS_TIMESTEP_CHECK_H
#define NNZIP_TESTS_TIMESTEP_CHECK_H

#include "harness.h"
#include "nc/nc.h"

/* Converting g twice gives the same graph, and the converted graph converts to itself. */
static inline void check_timestep_stable(const nc_graph *g)
{
    nc_graph *a = NULL, *b = NULL, *c = NULL;
    REQUIRE(nc_graph_timestep(g, &a, NULL) == NC_OK);
    REQUIRE(nc_graph_timestep(g, &b, NULL) == NC_OK);
    CHECK(nc_graph_fingerprint(a) == nc_graph_fingerprint(b));
    REQUIRE(nc_graph_timestep(a, &c, NULL) == NC_OK);
    CHECK(nc_graph_fingerprint(a) == nc_graph_fingerprint(c));
    nc_graph_free(a);
    nc_graph_free(b);
    nc_graph_free(c);
}

#endif
