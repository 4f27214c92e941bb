---------------------------- MODULE Replication ----------------------------
(***************************************************************************)
(* Dynamo Lab's replication protocol as built in dynamo/paxos/, with the   *)
(* log-replica role of the DynamoDB paper (USENIX ATC 2022), §3, §5.1,     *)
(* §6.1, §6.2; §5.4 says DynamoDB's own protocol is specified and          *)
(* model-checked in TLA+.                                                  *)
(*                                                                         *)
(* One replication group, Multi-Paxos:                                     *)
(*   - ballots: numbers, each started by one node (ballot.py);            *)
(*   - phase 1: Prepare/Promise with log recovery (proposer.py, Scout);    *)
(*   - phase 2: Accept/Accepted, chosen on a write quorum of the leader's *)
(*     members, committed in slot order (leader.py, replica.py);          *)
(*   - leases on abstract time: a grant to a ballot blocks grants to any  *)
(*     other ballot until it expires; a leader serves writes and strong   *)
(*     reads only under a lease granted by a majority (lease.py);         *)
(*   - membership change, one member at a time, through the log           *)
(*     (membership.py); planned handoff (handoff.py); crash and restart.  *)
(*   - log replicas: members that accept and persist log entries and     *)
(*     count toward the write quorum, answer Prepare as acceptors, but    *)
(*     never stand for election, so never lead and never serve reads.     *)
(*                                                                         *)
(* Messages are not modelled one by one: an action reads the sender's     *)
(* state, as if the message were delivered at once, or a history variable *)
(* (p1b, p2a, votes) that holds every message ever sent, so a late or     *)
(* duplicated delivery is just the action taken later or again. What the  *)
(* code adds for liveness only (pre-vote, loyalty to a live leader,        *)
(* timers, retransmission) is left out: the spec allows more behaviours    *)
(* than the code, and its safety covers the code's.                        *)
(*                                                                         *)
(* MUTANT selects a deliberately broken variant for the tests:            *)
(*   "none"          the protocol as built;                                *)
(*   "log_leads"     a log replica may stand for election;                 *)
(*   "double_count"  a log replica's accept counts twice in a write quorum.*)
(***************************************************************************)
EXTENDS Integers, FiniteSets, Sequences, TLC

CONSTANTS
    Full,         \* replicas with a B-tree: they may stand for election
    LogReplicas,  \* log replicas (§5.1): WAL only, never stand
    Values,       \* client writes
    InitMembers,  \* the configuration at the start
    AddIds,       \* nodes a leader may add (AddMember)
    RemoveIds,    \* nodes a leader may remove (RemoveMember)
    MaxBallot, MaxSlot, MaxTime, LeaseTime,
    MaxFaults,
    MaxSteps,    \* how many step-downs, handoffs and restarts a behaviour may have
    MUTANT

Node == Full \cup LogReplicas
Ballot == 1..MaxBallot
Slot == 1..MaxSlot
NoNode == "no node"
\* Every command is a record [op, arg], so that TLC can compare any two.
Noop == [op |-> "noop", arg |-> NoNode]
Writes == [op : {"write"}, arg : Values]
Changes == [op : {"add"}, arg : AddIds] \cup [op : {"remove"}, arg : RemoveIds]
Commands == Writes \cup Changes \cup {Noop}
IsChange(cmd) == cmd.op \in {"add", "remove"}
Nothing == [bal |-> 0, val |-> Noop]  \* an empty slot of an acceptor's log

ASSUME InitMembers \subseteq Node /\ MUTANT \in {"none", "log_leads", "double_count"}

VARIABLES
    promised,    \* [Node -> 0..MaxBallot]: acceptor.promised
    accepted,    \* [Node -> [Slot -> entry]]: acceptor.log (AcceptedEntry)
    votes,       \* every Accepted ever sent: [acc, bal, slot, val]
    p1b,         \* every Promise ever sent: [acc, bal, log]
    p2a,         \* every Accept ever sent: [bal, slot, val, client]
    owner,       \* [Ballot -> Node \cup {NoNode}]: who ran the ballot
    scoutConf,   \* [Ballot -> SUBSET Node]: Scout.members
    candidate,   \* [Node -> 0..MaxBallot]: scout.ballot, 0 if none
    leading,     \* [Node -> 0..MaxBallot]: leader.ballot, 0 if none
    nextSlot,    \* [Ballot -> Nat]: Leader.next_index
    readyAt,     \* [Ballot -> Nat]: Leader.ready_index
    changeAt,    \* [Ballot -> Nat]: Leader.membership_index, 0 if None
    applied,     \* [Node -> Seq(Commands)]: the committed log, applied in order
    acked,       \* slots whose client was answered Ok
    clock,       \* abstract time, shared by every node (no drift)
    grantTo,     \* [Node -> 0..MaxBallot]: LeaseGrantor.granted_to
    grantUntil,  \* [Node -> Nat]: LeaseGrantor.until
    leaseGrants, \* [Ballot -> [Node -> -1..MaxTime]]: LeaseHolder.granted_sent_at
    faults       \* how many StepDown, HandOff and Restart steps so far (bounds the model)

vars == <<promised, accepted, votes, p1b, p2a, owner, scoutConf, candidate, leading,
          nextSlot, readyAt, changeAt, applied, acked, clock, grantTo, grantUntil,
          leaseGrants, faults>>

-----------------------------------------------------------------------------
(* Configurations and quorums (membership.py)                              *)

Apply(conf, cmd) ==  \* apply_change
    IF IsChange(cmd)
    THEN IF cmd.op = "add" THEN conf \cup {cmd.arg} ELSE conf \ {cmd.arg}
    ELSE conf

RECURSIVE ConfAfter(_, _)
ConfAfter(log, i) == IF i = 0 THEN InitMembers ELSE Apply(ConfAfter(log, i - 1), log[i])

Members(n) == ConfAfter(applied[n], Len(applied[n]))  \* Replica.members

Majority(conf) == Cardinality(conf) \div 2 + 1  \* majority()

Weight(q) ==
    Cardinality(q) + (IF MUTANT = "double_count" THEN Cardinality(q \cap LogReplicas) ELSE 0)

\* Leader.chosen_through: accepts from a majority of the members, log replicas included.
WriteQuorums(conf) == {q \in SUBSET conf : Weight(q) >= Majority(conf)}

\* Scout.receive: promises from a majority of the members, log replicas included.
ElectionQuorums(conf) == {q \in SUBSET conf : Cardinality(q) >= Majority(conf)}

MayStand(n) == n \in Full \/ MUTANT = "log_leads"

-----------------------------------------------------------------------------
(* Leases (lease.py) on abstract time                                     *)

\* LeaseHolder.holds: a majority of the members granted within LeaseTime.
HoldsLease(b) ==
    /\ owner[b] /= NoNode
    /\ leading[owner[b]] = b
    /\ Cardinality({a \in Members(owner[b]) :
                       leaseGrants[b][a] >= 0 /\ clock < leaseGrants[b][a] + LeaseTime})
         >= Majority(Members(owner[b]))

\* LeaseGrantor.may_grant
MayGrant(a, b) == grantTo[a] = b \/ clock >= grantUntil[a]

Ready(n) == Len(applied[n]) >= readyAt[leading[n]]  \* Leader.is_ready

-----------------------------------------------------------------------------
Init ==
    /\ promised = [n \in Node |-> 0]
    /\ accepted = [n \in Node |-> [s \in Slot |-> Nothing]]
    /\ votes = {}
    /\ p1b = {}
    /\ p2a = {}
    /\ owner = [b \in Ballot |-> NoNode]
    /\ scoutConf = [b \in Ballot |-> {}]
    /\ candidate = [n \in Node |-> 0]
    /\ leading = [n \in Node |-> 0]
    /\ nextSlot = [b \in Ballot |-> 0]
    /\ readyAt = [b \in Ballot |-> 0]
    /\ changeAt = [b \in Ballot |-> 0]
    /\ applied = [n \in Node |-> <<>>]
    /\ acked = {}
    /\ clock = 0
    /\ grantTo = [n \in Node |-> 0]
    /\ grantUntil = [n \in Node |-> 0]
    /\ leaseGrants = [b \in Ballot |-> [n \in Node |-> -1]]
    /\ faults = 0

Fault == faults < MaxFaults /\ faults' = faults + 1

\* A node that promises or accepts a higher ballot stops leading and standing (_step_down).
StepDownBelow(a, b) ==
    /\ leading' = [leading EXCEPT ![a] = IF @ < b THEN 0 ELSE @]
    /\ candidate' = [candidate EXCEPT ![a] = IF @ < b THEN 0 ELSE @]

(* Phase 1a: Replica._start_election. The candidate promises its own ballot. *)
StartElection(n, b) ==
    /\ MayStand(n)
    /\ n \in Members(n)
    /\ leading[n] = 0
    /\ owner[b] = NoNode
    /\ b > promised[n]
    /\ owner' = [owner EXCEPT ![b] = n]
    /\ scoutConf' = [scoutConf EXCEPT ![b] = Members(n)]
    /\ candidate' = [candidate EXCEPT ![n] = b]
    /\ promised' = [promised EXCEPT ![n] = b]
    /\ p1b' = p1b \cup {[acc |-> n, bal |-> b, log |-> accepted[n]]}
    /\ UNCHANGED <<faults, accepted, votes, p2a, leading, nextSlot, readyAt, changeAt, applied,
                   acked, clock, grantTo, grantUntil, leaseGrants>>

(* Phase 1b: Acceptor.on_prepare, any node, log replicas included. *)
Promise(a, b) ==
    /\ owner[b] /= NoNode
    /\ a \in scoutConf[b]  \* the candidate sends Prepare to its members
    /\ b > promised[a]
    /\ promised' = [promised EXCEPT ![a] = b]
    /\ p1b' = p1b \cup {[acc |-> a, bal |-> b, log |-> accepted[a]]}
    /\ StepDownBelow(a, b)
    /\ UNCHANGED <<faults, accepted, votes, p2a, owner, scoutConf, nextSlot, readyAt, changeAt,
                   applied, acked, clock, grantTo, grantUntil, leaseGrants>>

\* Scout.recover: per slot above `base`, the value of the highest ballot reported.
Reported(q, b, s) == {m.log[s] : m \in {m \in p1b : m.acc \in q /\ m.bal = b}} \ {Nothing}
Highest(es) == (CHOOSE e \in es : \A f \in es : f.bal <= e.bal).val
LastReported(q, b, base) ==
    LET ss == {s \in Slot : s > base /\ Reported(q, b, s) /= {}}
    IN IF ss = {} THEN base ELSE CHOOSE s \in ss : \A t \in ss : t <= s
Recovered(q, b, base, last) ==
    {[bal |-> b, slot |-> s, client |-> FALSE,
      val |-> IF Reported(q, b, s) = {} THEN Noop ELSE Highest(Reported(q, b, s))] :
     s \in base + 1..last}

(* Phase 1 won: Replica._become_leader. Re-propose the recovered log, then a no-op; *)
(* the leader accepts them itself (_propose) and grants itself a lease if it may     *)
(* (_on_heartbeat_timer), in the same step, as the code does.                        *)
SelfAccept(n, b, props) ==
    /\ accepted' = [accepted EXCEPT ![n] =
           [s \in Slot |-> IF \E p \in props : p.slot = s
                           THEN [bal |-> b, val |-> (CHOOSE p \in props : p.slot = s).val]
                           ELSE @[s]]]
    /\ votes' = votes \cup {[acc |-> n, bal |-> b, slot |-> p.slot, val |-> p.val] : p \in props}

BecomeLeader(n) ==
    LET b == candidate[n] IN
    /\ b /= 0
    /\ promised[n] = b
    /\ \E q \in ElectionQuorums(scoutConf[b]) :
        /\ \A a \in q : \E m \in p1b : m.acc = a /\ m.bal = b
        /\ LET base == Len(applied[n])
               last == LastReported(q, b, base)
               noop == IF last < MaxSlot
                       THEN {[bal |-> b, slot |-> last + 1, client |-> FALSE, val |-> Noop]}
                       ELSE {}
               props == Recovered(q, b, base, last) \cup noop
           IN /\ p2a' = p2a \cup props
              /\ SelfAccept(n, b, props)
              /\ nextSlot' = [nextSlot EXCEPT ![b] = last + 1 + Cardinality(noop)]
              /\ readyAt' = [readyAt EXCEPT ![b] = last + Cardinality(noop)]
    /\ leading' = [leading EXCEPT ![n] = b]
    /\ candidate' = [candidate EXCEPT ![n] = 0]
    /\ IF MayGrant(n, b)
       THEN /\ grantTo' = [grantTo EXCEPT ![n] = b]
            /\ grantUntil' = [grantUntil EXCEPT ![n] = clock + LeaseTime]
            /\ leaseGrants' = [leaseGrants EXCEPT ![b][n] = clock]
       ELSE UNCHANGED <<grantTo, grantUntil, leaseGrants>>
    /\ UNCHANGED <<faults, promised, p1b, owner, scoutConf, changeAt, applied, acked, clock>>

(* Phase 2a for a client: Replica._write / _refusal / _propose (the leader accepts *)
(* its own proposal at once). Needs readiness and a lease;                        *)
(* a membership change needs the previous one committed and must change something. *)
Propose(n, cmd) ==
    LET b == leading[n]
        s == nextSlot[b]
    IN
    /\ b /= 0
    /\ Ready(n)
    /\ HoldsLease(b)
    /\ s <= MaxSlot
    /\ IsChange(cmd) =>
        /\ changeAt[b] <= Len(applied[n])
        /\ Apply(Members(n), cmd) /= Members(n)
    /\ p2a' = p2a \cup {[bal |-> b, slot |-> s, client |-> TRUE, val |-> cmd]}
    /\ SelfAccept(n, b, {[slot |-> s, val |-> cmd]})
    /\ nextSlot' = [nextSlot EXCEPT ![b] = s + 1]
    /\ changeAt' = IF IsChange(cmd) THEN [changeAt EXCEPT ![b] = s] ELSE changeAt
    /\ UNCHANGED <<faults, promised, p1b, owner, scoutConf, candidate, leading,
                   readyAt, applied, acked, clock, grantTo, grantUntil, leaseGrants>>

(* Phase 2b: Acceptor.on_accept, at any node, log replicas included. *)
Accept(a, m) ==
    /\ m \in p2a
    /\ a \in Members(owner[m.bal])  \* the leader sends Accept to its members
    /\ promised[a] <= m.bal
    /\ promised' = [promised EXCEPT ![a] = m.bal]
    /\ accepted' = [accepted EXCEPT ![a][m.slot] = [bal |-> m.bal, val |-> m.val]]
    /\ votes' = votes \cup {[acc |-> a, bal |-> m.bal, slot |-> m.slot, val |-> m.val]}
    /\ StepDownBelow(a, m.bal)
    /\ UNCHANGED <<faults, p1b, p2a, owner, scoutConf, nextSlot, readyAt, changeAt, applied, acked,
                   clock, grantTo, grantUntil, leaseGrants>>

\* A node removed from the group by `cmd` stops leading (_change_membership).
LeaveIfRemoved(n, cmd) ==
    leading' = IF n \notin Apply(Members(n), cmd) THEN [leading EXCEPT ![n] = 0] ELSE leading

(* Chosen: Replica._advance_commit. The next slot, accepted in the leader's ballot *)
(* by a write quorum of its members, is applied; its client is answered.           *)
Commit(n) ==
    LET b == leading[n]
        s == Len(applied[n]) + 1
    IN
    /\ b /= 0
    /\ \E m \in p2a :
        /\ m.bal = b /\ m.slot = s
        /\ \E q \in WriteQuorums(Members(n)) :
            \A a \in q : [acc |-> a, bal |-> b, slot |-> s, val |-> m.val] \in votes
        /\ applied' = [applied EXCEPT ![n] = Append(@, m.val)]
        /\ acked' = IF m.client THEN acked \cup {s} ELSE acked
        /\ LeaveIfRemoved(n, m.val)
    /\ UNCHANGED <<faults, promised, accepted, votes, p1b, p2a, owner, scoutConf, candidate,
                   nextSlot, readyAt, changeAt, clock, grantTo, grantUntil, leaseGrants>>

(* A follower learns a chosen slot, in order: _learn_commit, _on_commit (log shipping). *)
Learn(n, src) ==
    LET s == Len(applied[n]) + 1 IN
    /\ leading[n] = 0
    /\ Len(applied[src]) >= s
    /\ applied' = [applied EXCEPT ![n] = Append(@, applied[src][s])]
    /\ UNCHANGED <<faults, promised, accepted, votes, p1b, p2a, owner, scoutConf, candidate, leading,
                   nextSlot, readyAt, changeAt, acked, clock, grantTo, grantUntil,
                   leaseGrants>>

(* A heartbeat granted: Replica._on_heartbeat (and the leader's own grant in     *)
(* _on_heartbeat_timer), then _on_lease_grant at the leader.                     *)
Grant(a, n) ==
    LET b == leading[n] IN
    /\ b /= 0
    /\ a \in Members(n)
    /\ promised[a] <= b
    /\ MayGrant(a, b)
    /\ promised' = [promised EXCEPT ![a] = b]
    /\ StepDownBelow(a, b)
    /\ grantTo' = [grantTo EXCEPT ![a] = b]
    /\ grantUntil' = [grantUntil EXCEPT ![a] = clock + LeaseTime]
    /\ leaseGrants' = [leaseGrants EXCEPT ![b][a] = clock]
    /\ UNCHANGED <<faults, accepted, votes, p1b, p2a, owner, scoutConf, nextSlot, readyAt, changeAt,
                   applied, acked, clock>>

(* A leader or a candidate gives up: a Nack, or no majority heard for two leases (R7). *)
StepDown(n) ==
    /\ leading[n] /= 0 \/ candidate[n] /= 0
    /\ leading' = [leading EXCEPT ![n] = 0]
    /\ candidate' = [candidate EXCEPT ![n] = 0]
    /\ Fault
    /\ UNCHANGED <<promised, accepted, votes, p1b, p2a, owner, scoutConf, nextSlot, readyAt,
                   changeAt, applied, acked, clock, grantTo, grantUntil, leaseGrants>>

Release(g, a, b) ==  \* LeaseGrantor.release at node a
    IF g[a] = b THEN [g EXCEPT ![a] = 0] ELSE g

(* Planned handoff (handoff.py, H2-H4): once the successor has applied every     *)
(* proposed slot, the leader steps down releasing its grant, and the successor   *)
(* releases its grant to that ballot and stands at once with ballot c.           *)
HandOff(n, m, c) ==
    LET b == leading[n] IN
    /\ b /= 0
    /\ m \in Members(n) \ {n}
    /\ MayStand(m)
    /\ m \in Members(m)
    /\ Len(applied[n]) >= nextSlot[b] - 1
    /\ Len(applied[m]) >= nextSlot[b] - 1
    /\ owner[c] = NoNode
    /\ c > promised[m]
    /\ leading' = [leading EXCEPT ![n] = 0]
    /\ grantTo' = Release(Release(grantTo, n, b), m, b)
    /\ grantUntil' = [a \in Node |-> IF a \in {n, m} /\ grantTo[a] = b THEN 0
                                     ELSE grantUntil[a]]
    /\ owner' = [owner EXCEPT ![c] = m]
    /\ scoutConf' = [scoutConf EXCEPT ![c] = Members(m)]
    /\ candidate' = [candidate EXCEPT ![m] = c]
    /\ promised' = [promised EXCEPT ![m] = c]
    /\ p1b' = p1b \cup {[acc |-> m, bal |-> c, log |-> accepted[m]]}
    /\ Fault
    /\ UNCHANGED <<accepted, votes, p2a, nextSlot, readyAt, changeAt, applied, acked, clock,
                   leaseGrants>>

(* Crash and restart: the WAL (promises, accepts) and the applied log survive;   *)
(* leadership and grants do not, so a restarted grantor refuses all (rule 4).    *)
Restart(n) ==
    /\ leading' = [leading EXCEPT ![n] = 0]
    /\ candidate' = [candidate EXCEPT ![n] = 0]
    /\ grantTo' = [grantTo EXCEPT ![n] = 0]
    /\ grantUntil' = [grantUntil EXCEPT ![n] = clock + LeaseTime]
    /\ Fault
    /\ UNCHANGED <<promised, accepted, votes, p1b, p2a, owner, scoutConf, nextSlot, readyAt,
                   changeAt, applied, acked, clock, leaseGrants>>

Tick ==
    /\ clock < MaxTime
    /\ clock' = clock + 1
    /\ UNCHANGED <<faults, promised, accepted, votes, p1b, p2a, owner, scoutConf, candidate, leading,
                   nextSlot, readyAt, changeAt, applied, acked, grantTo, grantUntil,
                   leaseGrants>>

Next ==
    \/ \E n \in Node, b \in Ballot : StartElection(n, b)
    \/ \E a \in Node, b \in Ballot : Promise(a, b)
    \/ \E n \in Node : BecomeLeader(n)
    \/ \E n \in Node, cmd \in Writes \cup Changes : Propose(n, cmd)
    \/ \E a \in Node, m \in p2a : Accept(a, m)
    \/ \E n \in Node : Commit(n)
    \/ \E n, src \in Node : Learn(n, src)
    \/ \E a, n \in Node : Grant(a, n)
    \/ \E n \in Node : StepDown(n)
    \/ \E n, m \in Node, c \in Ballot : HandOff(n, m, c)
    \/ \E n \in Node : Restart(n)
    \/ Tick

Spec == Init /\ [][Next]_vars

\* A state constraint: TLC explores behaviours of at most MaxSteps steps.
DepthBound == TLCGet("level") < MaxSteps

-----------------------------------------------------------------------------
(* Invariants                                                               *)

TypeOK ==
    /\ promised \in [Node -> 0..MaxBallot]
    /\ leading \in [Node -> 0..MaxBallot]
    /\ candidate \in [Node -> 0..MaxBallot]
    /\ owner \in [Ballot -> Node \cup {NoNode}]
    /\ \A n \in Node : Len(applied[n]) <= MaxSlot
    /\ clock \in 0..MaxTime

\* At most one leader per ballot.
OneLeaderPerBallot == \A n, m \in Node : n /= m /\ leading[n] /= 0 => leading[n] /= leading[m]

\* A committed entry is the same everywhere (and, by CommittedStable, never changes).
CommittedAgree ==
    \A n, m \in Node : \A s \in 1..Len(applied[n]) :
        s <= Len(applied[m]) => applied[n][s] = applied[m][s]

\* Every write quorum intersects every election quorum, log replicas included, across
\* every configuration in use (each node's members, each running Scout's members).
ConfigsInUse == {Members(n) : n \in Node} \cup {scoutConf[b] : b \in {c \in Ballot : owner[c] /= NoNode}}
QuorumsIntersect ==
    \A c1, c2 \in ConfigsInUse :
        \A w \in WriteQuorums(c1), e \in ElectionQuorums(c2) : w \cap e /= {}

\* A log replica never stands, so never leads (and so never serves a strong read).
LogReplicaNeverLeads == \A n \in LogReplicas : leading[n] = 0 /\ candidate[n] = 0

\* No two leaders hold a lease at once.
LeaseExclusive == \A b, c \in Ballot : b /= c => ~(HoldsLease(b) /\ HoldsLease(c))

\* A leader that may serve a strong read (ready, under a lease) has applied every
\* write any client was told is committed.
StrongReadsSeeAcked ==
    \A n \in Node :
        (leading[n] /= 0 /\ Ready(n) /\ HoldsLease(leading[n]))
            => \A s \in acked : s <= Len(applied[n])

\* Action property: what a node has committed never changes.
CommittedStable ==
    [][\A n \in Node : SubSeq(applied'[n], 1, Len(applied[n])) = applied[n]]_vars
=============================================================================
