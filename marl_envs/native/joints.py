"""Grab joints (``physics.constraints.apply_grabs``) of a block of worlds, for the fused physics kernel."""

from __future__ import annotations

import math

import numba
import numpy as np

FASTMATH = {"contract", "arcp", "nsz"}


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
def grab_joints(start, n, s, grab, grab_index, holders, mass, gv, gerr, beta, h):
    """Velocity projection onto the grab welds (physics.constraints.apply_grabs), in place on the block.

    Everything is computed from the pre-projection state, then written: held bodies get the
    common velocity of their cluster plus the mean drift correction and the mean of their
    holders' turn rates; holders get their held body's common velocity (or keep their own).
    """
    n_bodies, n_holders = s.shape[1], grab_index.shape[0]
    zero, one, two_pi = np.float32(0.0), np.float32(1.0), np.float32(2.0 * math.pi)
    pi = np.float32(math.pi)
    for b in range(n_bodies):
        for i in range(n):
            gv[0, b, i], gv[1, b, i], gv[2, b, i] = mass[b], s[2, b, i] * mass[b], s[3, b, i] * mass[b]
            gv[3, b, i] = zero
    for a in range(n_holders):
        holder = holders[a]
        for i in range(n):
            j = start + i
            target = grab_index[a, j]
            if target >= 0:
                gv[0, target, i] += mass[holder]
                gv[1, target, i] += mass[holder] * s[2, holder, i]
                gv[2, target, i] += mass[holder] * s[3, holder, i]
                gv[3, target, i] += one
            held = max(target, 0)
            cos, sin = math.cos(s[4, holder, i]), math.sin(s[4, holder, i])
            ox, oy = grab[0, a, j], grab[1, a, j]
            gerr[0, a, i] = s[0, holder, i] + cos * ox - sin * oy - s[0, held, i]
            gerr[1, a, i] = s[1, holder, i] + sin * ox + cos * oy - s[1, held, i]
            wrapped = s[4, holder, i] + grab[2, a, j] - s[4, held, i] + pi  # wrap_angle: to [-pi, pi)
            wrapped = wrapped - two_pi * math.floor(wrapped / two_pi) - pi
            gerr[2, a, i] = s[5, holder, i] + beta * wrapped / h
            gerr[3, a, i], gerr[4, a, i] = s[2, holder, i], s[3, holder, i]
    for b in range(n_bodies):
        for i in range(n):
            count = gv[3, b, i]
            if count > zero:
                sum_x, sum_y, turn = zero, zero, zero
                for a in range(n_holders):
                    if grab_index[a, start + i] == b:
                        sum_x += gerr[0, a, i]
                        sum_y += gerr[1, a, i]
                        turn += gerr[2, a, i]
                s[2, b, i] = gv[1, b, i] / gv[0, b, i] + sum_x * (beta / h) / count
                s[3, b, i] = gv[2, b, i] / gv[0, b, i] + sum_y * (beta / h) / count
                s[5, b, i] = turn / count
    for a in range(n_holders):
        holder = holders[a]
        for i in range(n):
            target = grab_index[a, start + i]
            if target >= 0:
                cluster = gv[0, target, i]
                s[2, holder, i], s[3, holder, i] = gv[1, target, i] / cluster, gv[2, target, i] / cluster
            else:
                s[2, holder, i], s[3, holder, i] = gerr[3, a, i], gerr[4, a, i]
