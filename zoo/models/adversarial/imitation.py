"""Adversarial imitation from an expert's trajectories: GAIL (Ho & Ermon 2016, "Generative Adversarial Imitation
Learning", arXiv 1606.03476), VAIL (Peng et al. 2019, "Variational Discriminator Bottleneck", arXiv 1810.00821)
and the behavioural-cloning baseline (BC), on gymnasium's classic-control tasks.

The setting: a few trajectories of an expert policy pi_E, pairs (s, a), and the environment to act in, but no
reward. GAIL (Ho & Ermon 2016, Eq. 16 and Alg. 1) finds a saddle point of

    min_pi max_D  E_pi[log D(s, a)] + E_{pi_E}[log(1 - D(s, a))] - lambda H(pi),

D(s, a) in (0, 1) the discriminator's probability that the pair is the POLICY's (the paper's convention: the
policy's pairs are labelled 1, the expert's 0). Each iteration draws trajectories with pi, takes D's gradient
step on the logistic loss of that labelling (`zoo.losses.real_logit_loss` on the policy's pairs,
`fake_logit_loss` on the expert's), then a policy step on the cost log D, i.e. the reward

    r(s, a) = -log D(s, a) = softplus(-logit D(s, a))      (`zoo.losses.gail_reward`),

which is > 0 and large where D takes the pair for the expert's. On a task whose episodes end on failure
(CartPole) a positive reward is also a bonus for surviving: part of what GAIL learns there comes from the sign
of its reward, not from the expert (Kostrikov et al. 2019, arXiv 1809.02925, Sec. 4.1); the benchmark's random
policy and BC columns are the yardsticks.

VAIL (Peng et al. 2019, Eqs. 5-8 and Sec. 5) puts a variational information bottleneck in D: an encoder
E(z|s, a) = N(mu(s, a), diag sigma^2(s, a)), and D classifies a sample z. The information the code carries
is bounded, averaged over the mixture of expert and policy pairs p~:

    min_{D, E}  E_pi E_{z~E}[-log D(z)] + E_{pi_E} E_{z~E}[-log(1 - D(z))]
    s.t.        E_{p~}[KL(E(z|s, a) || N(0, I))] <= I_c,

solved by dual gradient descent: D and E step on the loss + beta (KL - I_c), then

    beta <- max(0, beta + alpha_beta (E_{p~}[KL] - I_c))   (`zoo.losses.bottleneck_multiplier`, shared with `vdb`).

Settings: I_c = 0.5 and alpha_beta = 1e-5 are the defaults, the values given for the paper's imitation
experiments (the paper's text could not be checked from this machine: the pages found held its abstract only;
alpha_beta = 1e-5 is also the authors' VGAN code's, see `vdb`). beta starts at 0.1, the VGAN code's start (the
imitation code's is not checked either). A choice of this module, not the paper's: the policy's reward reads
D at the code's mean mu(s, a), so it is deterministic. With ~10^2-10^3 D steps in a CPU run, alpha_beta = 1e-5
leaves beta where it started: the benchmark states the alpha_beta it used.

The policy step is PPO (Schulman et al. 2017, arXiv 1707.06347: the clipped surrogate of Eq. 7, GAE of
Schulman et al. 2016, arXiv 1506.02438, Eq. 16) where Ho & Ermon used TRPO: PPO's update is a few
first-order minibatch steps of an Adam optimizer, so it goes through the zoo's one gradient step
(`ZooModel.minimize`, role "pi"; the value net is role "v", D role "d") with everything that step handles,
where TRPO's natural-gradient step (conjugate gradient, line search on a KL constraint) would need a solver of
its own; both keep the new policy close to the old one, and PPO matches TRPO on the classic-control tasks
(Schulman et al. 2017, Sec. 6.1). As in common PPO code, advantages are normalised per batch and the value net
is a separate MLP on its own optimizer.

Behavioural cloning (`bc`, Pomerleau 1991) fits the same policy net to the expert's pairs by maximum
likelihood, -E_{pi_E} log pi(a|s), without the environment.

The environment loop stays outside the TensorFlow graph: numpy rollouts on `num_envs` copies of the task, the
policy's action drawn in a compiled step from the model's seed generator; D's, the policy's and the value
net's updates are compiled steps. Training is `model.train(expert, iterations=...)` (`fit` on a batch stream
does not apply and says so). The experts are controllers written from the physics (`expert_policy`): for
CartPole-v1 the sign of a discrete-time LQR force on the cart-pole linearised about the upright pole.
Only discrete action spaces are implemented (CartPole-v1, Acrobot-v1, MountainCar-v0 by their spaces); a
continuous one (Pendulum-v1) is a clear error.

gymnasium is imported only when an environment is used: `pip install -e ".[rl]"`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import reparameterize, split_gaussian
from zoo.registry import register

DEFAULT_ENV = "CartPole-v1"
#: CartPole-v1's episodes are truncated at 500 steps, each step rewarded 1: the largest return.
CARTPOLE_MAX_RETURN = 500.0


def gymnasium():
    """The gymnasium module, imported on first use, with a clear error where it is missing."""
    try:
        import gymnasium as gym
    except ImportError:
        raise ImportError('the imitation methods (gail, vail, bc) act in gymnasium environments, which is not '
                          'installed: pip install -e ".[rl]" (or pip install "gymnasium>=1.0")') from None
    return gym


def make_env(env_id):
    return gymnasium().make(env_id)


def environment_spec(env_id):
    """(observation size, number of actions) of a gymnasium task with a vector observation and discrete actions."""
    gym = gymnasium()
    env = make_env(env_id)
    try:
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"{env_id} has a {type(env.action_space).__name__} action space; the imitation "
                             "methods implement discrete actions only (e.g. CartPole-v1)")
        if len(env.observation_space.shape) != 1:
            raise ValueError(f"{env_id}'s observations have shape {env.observation_space.shape}; vectors expected")
        return int(env.observation_space.shape[0]), int(env.action_space.n)
    finally:
        env.close()


# ------------------------------------------------------------------ experts and trajectories
def cartpole_lqr_gains(env):
    """The discrete-time LQR gains K (u = -K s) of gymnasium's cart-pole, linearised about the upright pole.

    The cart-pole of gymnasium (Barto, Sutton & Anderson 1983's equations, a pole of half-length l) at theta = 0:
    theta'' = (g theta - F / M) / (l (4/3 - m / M)) and x'' = F / M - m l theta'' / M with M = m_cart + m_pole;
    Euler steps of tau (the simulator's own integrator), costs Q = diag(1, 1, 10, 1) on (x, x', theta, theta'),
    R = 1 on the force. The physical constants are read from the environment.
    """
    import scipy.linalg

    cartpole = env.unwrapped
    g, m, l, tau = cartpole.gravity, cartpole.masspole, cartpole.length, cartpole.tau
    total = cartpole.masscart + m
    lever = l * (4.0 / 3.0 - m / total)
    a = np.zeros((4, 4))
    a[0, 1] = a[2, 3] = 1.0
    a[3, 2] = g / lever
    a[1, 2] = -m * l / total * g / lever
    b = np.array([[0.0], [1.0 / total + m * l / (total * total * lever)], [0.0], [-1.0 / (total * lever)]])
    a_d, b_d = np.eye(4) + tau * a, tau * b
    q, r = np.diag([1.0, 1.0, 10.0, 1.0]), np.ones((1, 1))
    p = scipy.linalg.solve_discrete_are(a_d, b_d, q, r)
    return np.linalg.solve(r + b_d.T @ p @ b_d, b_d.T @ p @ a_d)[0]


def cartpole_expert(env):
    """CartPole's expert: push right (action 1, +force_mag) when the LQR force -K s is positive, else left. The
    actuator is bang-bang (+-10 N), so the LQR law's sign is what it can apply."""
    gains = cartpole_lqr_gains(env)
    return lambda observation: int(-(gains @ observation) > 0.0)


EXPERTS = {"CartPole-v1": cartpole_expert}


def expert_policy(env_id, env):
    """The physics-based expert of `env_id` (`EXPERTS`), as a function observation -> action."""
    if env_id not in EXPERTS:
        raise ValueError(f"no expert controller for {env_id!r}; experts exist for {sorted(EXPERTS)}")
    return EXPERTS[env_id](env)


@dataclasses.dataclass
class Trajectories:
    """Complete episodes: their (s, a) pairs concatenated, and each episode's return and length."""

    observations: np.ndarray  # (pairs, observation_dim) float32
    actions: np.ndarray  # (pairs,) int32
    returns: np.ndarray  # (episodes,) the environment's return of each episode
    lengths: np.ndarray  # (episodes,)

    def __len__(self):
        return len(self.lengths)

    def first(self, episodes):
        """The first `episodes` episodes (the benchmark's 1, 4, 10, 25 trajectories share one expert draw)."""
        if not 1 <= episodes <= len(self):
            raise ValueError(f"asked for {episodes} episodes of {len(self)}")
        pairs = int(self.lengths[:episodes].sum())
        return Trajectories(self.observations[:pairs], self.actions[:pairs], self.returns[:episodes],
                            self.lengths[:episodes])


def run_episodes(env_id, policy, episodes, seed=0):
    """`episodes` episodes of `policy` (observation -> action) on `env_id`, the i-th reset with seed + i."""
    env = make_env(env_id)
    observations, actions, returns, lengths = [], [], [], []
    try:
        for episode in range(episodes):
            observation, _ = env.reset(seed=seed + episode)
            total, length, done = 0.0, 0, False
            while not done:
                action = int(policy(observation))
                observations.append(observation)
                actions.append(action)
                observation, reward, terminated, truncated, _ = env.step(action)
                total, length, done = total + float(reward), length + 1, terminated or truncated
            returns.append(total)
            lengths.append(length)
    finally:
        env.close()
    return Trajectories(np.asarray(observations, "float32"), np.asarray(actions, "int32"),
                        np.asarray(returns, "float64"), np.asarray(lengths, "int64"))


def expert_trajectories(env_id=DEFAULT_ENV, episodes=25, seed=0):
    """`episodes` episodes of the physics-based expert of `env_id` (resets seeded seed, seed + 1, ...)."""
    env = make_env(env_id)
    try:
        expert = expert_policy(env_id, env)
    finally:
        env.close()
    return run_episodes(env_id, expert, episodes, seed)


def random_policy_returns(env_id=DEFAULT_ENV, episodes=10, seed=0):
    """Returns of the uniformly random policy, the floor every imitator is compared with."""
    rng = np.random.default_rng(seed)
    num_actions = environment_spec(env_id)[1]
    return run_episodes(env_id, lambda observation: rng.integers(num_actions), episodes, seed).returns


def generalized_advantages(rewards, values, next_values, ended, gamma, gae_lambda):
    """GAE (Schulman et al. 2016, Eq. 16) over a rollout of shape (steps, envs).

    delta_t = r_t + gamma V(s_{t+1}) - V(s_t) and A_t = delta_t + gamma lambda A_{t+1}, the sum cut where an
    episode ended at t. `next_values` is V(s_{t+1}) of the step's own next state, 0 where the episode
    terminated (a failure's value is 0) but V(s_{t+1}) where it was truncated by the time limit (the episode
    could have gone on), so truncation bootstraps and termination does not.
    """
    advantages = np.zeros_like(rewards)
    running = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] - values[t]
        running = delta + gamma * gae_lambda * (1.0 - ended[t]) * running
        advantages[t] = running
    return advantages


class _VectorRollout:
    """`num_envs` copies of a task stepped in lockstep in numpy; an ended episode is reset in place."""

    def __init__(self, env_id, num_envs, seed):
        self.envs = [make_env(env_id) for _ in range(num_envs)]
        self.observations = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)])
        self.episode_returns = np.zeros(num_envs)
        self.finished_returns = []

    def step(self, actions):
        """(next observations before any reset, rewards, terminated, truncated); resets ended episodes."""
        results = [env.step(int(a)) for env, a in zip(self.envs, actions)]
        next_observations = np.stack([r[0] for r in results]).astype("float32")
        rewards = np.array([r[1] for r in results], "float64")
        terminated = np.array([r[2] for r in results], "float32")
        truncated = np.array([r[3] for r in results], "float32")
        self.episode_returns += rewards
        self.observations = next_observations.copy()
        for i, env in enumerate(self.envs):
            if terminated[i] or truncated[i]:
                self.finished_returns.append(self.episode_returns[i])
                self.episode_returns[i] = 0.0
                self.observations[i] = env.reset()[0]
        return next_observations, rewards, terminated, truncated

    def close(self):
        for env in self.envs:
            env.close()


# ------------------------------------------------------------------ the methods
class ImitationModel(ZooModel):
    """Base of the imitation methods: a softmax policy pi(a|s) on a task's observations, acting, scoring.

    Not registered. Subclasses build their other nets and implement `train(expert, ...)`.
    """

    input_rank = 1  # observations are vectors
    trains_on_batches = False

    def _init_policy(self, env_id, observation_dim, num_actions, hidden, seed, kwargs):
        if observation_dim is None or num_actions is None:
            observation_dim, num_actions = environment_spec(env_id)
        if int(num_actions) < 2:
            raise ValueError(f"num_actions must be >= 2; got {num_actions}")
        super().__init__((int(observation_dim),), seed=seed, **kwargs)
        self.env_id, self.observation_dim, self.num_actions = env_id, int(observation_dim), int(num_actions)
        self.hidden = tuple(int(u) for u in hidden)
        self.policy = nets.vector_mlp(self.observation_dim, self.hidden, self.num_actions, activation="tanh",
                                      name="pi_policy")
        object.__setattr__(self, "_compiled_steps", {})  # bookkeeping out of Keras' tracking

    def graph_step(self, fn):
        """`fn` as one graph (XLA where the model was compiled with it), traced once per model."""
        steps = self._compiled_steps
        if fn.__name__ not in steps:
            steps[fn.__name__] = fn if self.run_eagerly else tf.function(fn, jit_compile=self.jit_compile is True)
        return steps[fn.__name__]

    def act(self, observations, deterministic=True):
        """Actions of the policy for a batch of observations (numpy): its most probable, or drawn from it."""
        observations = np.asarray(observations, "float32").reshape(-1, self.observation_dim)
        step = self.graph_step(self._greedy_actions if deterministic else self._drawn_actions)
        return ops.convert_to_numpy(step(observations)).astype("int32")

    def _greedy_actions(self, observations):
        return ops.argmax(self.policy(observations, training=False), axis=-1)

    def _drawn_actions(self, observations):
        return keras.random.categorical(self.policy(observations, training=False), 1, seed=self.seed_generator)[:, 0]

    def policy_returns(self, episodes=10, seed=10_000, deterministic=True):
        """The environment's returns of `episodes` episodes of the policy (resets seeded seed, seed + 1, ...)."""
        return run_episodes(self.env_id, lambda o: self.act(o[None], deterministic)[0], episodes, seed).returns

    def _check_expert(self, expert):
        if not isinstance(expert, Trajectories):
            raise TypeError(f"{type(self).__name__}.train takes the expert's Trajectories "
                            f"(zoo.models.adversarial.imitation.expert_trajectories); got {type(expert).__name__}")
        if expert.observations.shape[1:] != (self.observation_dim,):
            raise ValueError(f"the expert's observations have shape {expert.observations.shape[1:]}; "
                             f"{type(self).__name__} was built for ({self.observation_dim},)")
        if expert.actions.min() < 0 or expert.actions.max() >= self.num_actions:
            raise ValueError(f"the expert's actions must be in [0, {self.num_actions})")

    def fit(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} learns by acting in its environment, not from a batch stream: "
                        "model.train(expert_trajectories(...), ...) trains it")

    def train_step(self, batch):
        raise TypeError(f"{type(self).__name__} has no batch train_step: model.train(expert, ...) trains it")

    def _training_rng(self):
        """The numpy generator of a `train` call (minibatch order, expert draws, resets): from the model's seed
        and the policy's step count, so a resumed model does not replay the first call's draws."""
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng(self.seed + int(self.role_optimizers["pi"].iterations))

    def _start_logs(self):
        for tracker in self._trackers.values():
            tracker.reset_state()

    def _log(self, logs):
        self.track(tuple(logs), logs)

    def _logged(self):
        return {name: float(tracker.result()) for name, tracker in self._trackers.items()}


@register("gail")
class GAIL(ImitationModel):
    """Generative adversarial imitation learning: a discriminator D(s, a) and a policy trained by PPO on -log D.

    Ho & Ermon 2016, Alg. 1, with PPO's step in place of TRPO's (the module docstring says why). Per
    iteration: `rollout_steps` steps on each of `num_envs` copies of the task with the current policy;
    `discriminator_epochs` passes of Adam over those pairs in minibatches, each against as many expert pairs
    drawn at random (D labels the policy's pairs 1, the expert's 0); the reward -log D(s, a) of the new D on
    the rollout; GAE; `ppo_epochs` passes of the clipped surrogate in minibatches for the policy and of the
    squared error to the lambda-returns for the value net. The environment's own reward is never read,
    only logged (`episode_return`).

    Args:
        env_id: a gymnasium task with vector observations and discrete actions.
        observation_dim, num_actions: the task's sizes (None: read from gymnasium).
        hidden: the policy's and the value net's tanh MLP.
        discriminator_hidden: D's ReLU MLP on [s; one-hot a].
        num_envs, rollout_steps: the rollout, num_envs x rollout_steps pairs an iteration.
        ppo_epochs, minibatch_size, clip_ratio: PPO's passes, minibatch and epsilon.
        gamma, gae_lambda: discount and GAE's lambda.
        entropy_weight: lambda of the causal entropy bonus (as a PPO entropy term).
        policy_learning_rate, value_learning_rate, discriminator_learning_rate: the roles' Adam rates.
        discriminator_epochs: D's passes over each rollout.
        seed: seed of the model's noise (actions drawn, minibatch order, the environments' resets).

    Example:
        >>> from zoo.models.adversarial.imitation import expert_trajectories
        >>> expert = expert_trajectories("CartPole-v1", episodes=4)
        >>> model = zoo.load("gail")
        >>> history = model.train(expert, iterations=40)
        >>> model.policy_returns(episodes=5)
    """

    roles = ("pi", "v", "d")
    log_names = ("d_loss", "d_accuracy", "reward", "policy_loss", "value_loss", "entropy", "approx_kl",
                 "clip_fraction")

    def __init__(self, env_id=DEFAULT_ENV, observation_dim=None, num_actions=None, hidden=(64, 64),
                 discriminator_hidden=(64, 64), num_envs=8, rollout_steps=256, ppo_epochs=4, minibatch_size=256,
                 clip_ratio=0.2, gamma=0.99, gae_lambda=0.95, entropy_weight=0.0, policy_learning_rate=3e-4,
                 value_learning_rate=1e-3, discriminator_learning_rate=3e-4, discriminator_epochs=1, seed=None,
                 **kwargs):
        self._init_policy(env_id, observation_dim, num_actions, hidden, seed, kwargs)
        for name, value in (("num_envs", num_envs), ("rollout_steps", rollout_steps), ("ppo_epochs", ppo_epochs),
                            ("minibatch_size", minibatch_size), ("discriminator_epochs", discriminator_epochs)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        if not 0.0 < clip_ratio < 1.0:
            raise ValueError(f"clip_ratio must be in (0, 1); got {clip_ratio}")
        self.discriminator_hidden = tuple(int(u) for u in discriminator_hidden)
        self.num_envs, self.rollout_steps, self.ppo_epochs = int(num_envs), int(rollout_steps), int(ppo_epochs)
        self.minibatch_size, self.discriminator_epochs = int(minibatch_size), int(discriminator_epochs)
        self.clip_ratio, self.gamma, self.gae_lambda = float(clip_ratio), float(gamma), float(gae_lambda)
        self.entropy_weight = float(entropy_weight)
        self.policy_learning_rate, self.value_learning_rate = float(policy_learning_rate), float(value_learning_rate)
        self.discriminator_learning_rate = float(discriminator_learning_rate)
        self.value_net = nets.vector_mlp(self.observation_dim, self.hidden, 1, activation="tanh", name="v_value")
        self._build_discriminator()
        self._finish_build()

    # ---------------------------------------------------------------- nets
    def _build_discriminator(self):
        self.discriminator = nets.vector_mlp(self.observation_dim + self.num_actions, self.discriminator_hidden, 1,
                                             name="d_discriminator")

    def discriminator_layers(self):
        return [self.discriminator]

    def role_layers(self):
        return {"pi": [self.policy], "v": [self.value_net], "d": self.discriminator_layers()}

    def default_optimizers(self):
        return {"pi": keras.optimizers.Adam(self.policy_learning_rate),
                "v": keras.optimizers.Adam(self.value_learning_rate),
                "d": keras.optimizers.Adam(self.discriminator_learning_rate)}

    def pairs(self, observations, actions):
        """D's input: [s; one-hot a]."""
        return ops.concatenate([ops.cast(observations, "float32"),
                                ops.one_hot(ops.cast(actions, "int32"), self.num_actions)], axis=-1)

    def discriminator_logits(self, observations, actions, training=False):
        """logit D(s, a), D the probability that the pair is the policy's."""
        return ops.squeeze(self.discriminator(self.pairs(observations, actions), training=training), -1)

    def reward_logits(self, observations, actions):
        """The logits the policy's reward reads."""
        return self.discriminator_logits(observations, actions)

    def rewards(self, observations, actions):
        """GAIL's reward -log D(s, a) per pair (numpy)."""
        return ops.convert_to_numpy(self.graph_step(self._rewards)(observations, actions))

    def _rewards(self, observations, actions):
        return losses.gail_reward(self.reward_logits(observations, actions))

    # ---------------------------------------------------------------- steps
    def discriminator_loss(self, policy_observations, policy_actions, expert_observations, expert_actions):
        """-E_pi log D - E_{pi_E} log(1 - D): the policy's pairs labelled 1, the expert's 0."""
        policy_logits = self.discriminator_logits(policy_observations, policy_actions, training=True)
        expert_logits = self.discriminator_logits(expert_observations, expert_actions, training=True)
        loss = losses.real_logit_loss(policy_logits) + losses.fake_logit_loss(expert_logits)
        return loss, {"d_loss": loss, "d_accuracy": _accuracy(policy_logits, expert_logits)}

    def _discriminator_step(self, policy_observations, policy_actions, expert_observations, expert_actions):
        _, logs = self.minimize("d", lambda: self.discriminator_loss(
            policy_observations, policy_actions, expert_observations, expert_actions))
        return logs

    def _policy_step(self, observations, actions, old_log_probs, advantages, returns):
        """One PPO minibatch: the clipped surrogate for pi, the squared error to the lambda-returns for V."""
        def policy_loss():
            logits = self.policy(observations, training=True)
            log_probs = losses.categorical_log_prob(actions, logits)
            entropy = ops.mean(losses.categorical_entropy(logits))
            loss = -losses.ppo_clipped_surrogate(log_probs, old_log_probs, advantages, self.clip_ratio)
            clipped = ops.abs(ops.exp(log_probs - old_log_probs) - 1.0) > self.clip_ratio
            return loss - self.entropy_weight * entropy, {
                "policy_loss": loss, "entropy": entropy, "approx_kl": ops.mean(old_log_probs - log_probs),
                "clip_fraction": ops.mean(ops.cast(clipped, "float32"))}

        def value_loss():
            values = ops.squeeze(self.value_net(observations, training=True), -1)
            loss = 0.5 * ops.mean(ops.square(returns - values))
            return loss, {"value_loss": loss}

        _, policy_logs = self.minimize("pi", policy_loss)
        _, value_logs = self.minimize("v", value_loss)
        return {**policy_logs, **value_logs}

    def _act_step(self, observations):
        """Actions drawn from pi, their log-probabilities, and V(s)."""
        logits = self.policy(observations, training=False)
        actions = ops.cast(keras.random.categorical(logits, 1, seed=self.seed_generator)[:, 0], "int32")
        return actions, losses.categorical_log_prob(actions, logits), self.values(observations)

    def values(self, observations):
        return ops.squeeze(self.value_net(observations, training=False), -1)

    def after_discriminator_step(self, logs):
        """Hook after each D step (VAIL's dual ascent); returns logs to add."""
        return {}

    # ---------------------------------------------------------------- training
    def train(self, expert, iterations=50, callback=None, verbose=0):
        """Train `iterations` GAIL iterations from the expert's `Trajectories`; returns the history.

        The history maps each logged name to its value per iteration, with `episode_return` (the environment's
        mean return of the episodes that ended in the iteration; NaN if none did) and `environment_steps`.
        `callback(iteration, logs)` is called after each iteration.
        """
        self._check_expert(expert)
        rng = self._training_rng()
        rollout = _VectorRollout(self.env_id, self.num_envs, int(rng.integers(2**31)))
        history, steps = {}, 0
        try:
            for iteration in range(int(iterations)):
                self._start_logs()
                batch = self._collect(rollout)
                steps += self.rollout_steps * self.num_envs
                self._train_discriminator(batch, expert, rng)
                batch["rewards"] = self.rewards(batch["observations"].reshape(-1, self.observation_dim),
                                                batch["actions"].reshape(-1))
                self._train_policy(batch, rng)
                logs = self._logged()
                finished, rollout.finished_returns = rollout.finished_returns, []
                logs["episode_return"] = float(np.mean(finished)) if finished else math.nan
                logs["environment_steps"] = steps
                for name, value in logs.items():
                    history.setdefault(name, []).append(value)
                if callback is not None:
                    callback(iteration, logs)
                if verbose:
                    print(f"iteration {iteration + 1}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
        finally:
            rollout.close()
        return history

    def _collect(self, rollout):
        """`rollout_steps` lockstep steps of the policy on every copy: arrays of shape (steps * envs, ...)."""
        act = self.graph_step(self._act_step)
        shape = (self.rollout_steps, self.num_envs)
        observations = np.zeros(shape + (self.observation_dim,), "float32")
        next_observations = np.zeros_like(observations)
        actions, log_probs, values = np.zeros(shape, "int32"), np.zeros(shape, "float32"), np.zeros(shape, "float32")
        terminated, ended = np.zeros(shape, "float32"), np.zeros(shape, "float32")
        for t in range(self.rollout_steps):
            observations[t] = rollout.observations
            a, log_p, v = (ops.convert_to_numpy(x) for x in act(rollout.observations.astype("float32")))
            actions[t], log_probs[t], values[t] = a, log_p, v
            next_observations[t], _, terminated[t], truncated = rollout.step(a)
            ended[t] = np.maximum(terminated[t], truncated)
        # V(s_{t+1}) of each step's own next state (before a reset), 0 after a failure (see generalized_advantages).
        next_values = self.graph_step(self.values)(next_observations.reshape(-1, self.observation_dim))
        next_values = ops.convert_to_numpy(next_values)
        return {"observations": observations, "actions": actions, "log_probs": log_probs, "values": values,
                "next_values": next_values.reshape(shape) * (1.0 - terminated), "ended": ended}

    def _train_discriminator(self, batch, expert, rng):
        observations = batch["observations"].reshape(-1, self.observation_dim)
        actions = batch["actions"].reshape(-1)
        step = self.graph_step(self._discriminator_step)
        for _ in range(self.discriminator_epochs):
            for rows in _minibatches(len(actions), self.minibatch_size, rng):
                drawn = rng.integers(len(expert.actions), size=len(rows))
                logs = step(observations[rows], actions[rows], expert.observations[drawn], expert.actions[drawn])
                self._log({**logs, **self.after_discriminator_step(logs)})

    def _train_policy(self, batch, rng):
        rewards = batch["rewards"].reshape(batch["values"].shape)
        advantages = generalized_advantages(rewards, batch["values"], batch["next_values"], batch["ended"],
                                            self.gamma, self.gae_lambda)
        returns = (advantages + batch["values"]).reshape(-1).astype("float32")
        advantages = advantages.reshape(-1)
        advantages = ((advantages - advantages.mean()) / (advantages.std() + 1e-8)).astype("float32")
        observations = batch["observations"].reshape(-1, self.observation_dim)
        actions, log_probs = batch["actions"].reshape(-1), batch["log_probs"].reshape(-1)
        step = self.graph_step(self._policy_step)
        self._log({"reward": float(rewards.mean())})
        for _ in range(self.ppo_epochs):
            for rows in _minibatches(len(actions), self.minibatch_size, rng):
                self._log(step(observations[rows], actions[rows], log_probs[rows], advantages[rows], returns[rows]))


@register("vail")
class VAIL(GAIL):
    """GAIL whose discriminator sees (s, a) only through a stochastic code of bounded information (VAIL).

    Peng et al. 2019, Sec. 5 (the module docstring has the equations): an encoder E(z|s, a) (a ReLU MLP to
    the mean and log-variance of a diagonal Gaussian of `latent_dim`), D a logistic layer on a sample z, the
    KL to N(0, I) averaged over the expert's and the policy's pairs, its weight beta updated by dual ascent
    after each D step; the policy's reward -log D(mu(s, a)) reads the code's mean (this module's choice).

    Args (besides GAIL's):
        latent_dim: size of the code z.
        information_constraint: I_c in nats (0.5, given as the paper's imitation value).
        beta_step: alpha_beta, the dual step size (1e-5, given as the paper's).
        initial_beta: beta before the first step.

    Example:
        >>> model = zoo.load("vail", beta_step=1e-3)
        >>> history = model.train(expert_trajectories("CartPole-v1", episodes=4), iterations=40)
    """

    log_names = GAIL.log_names + ("kl", "beta")

    def __init__(self, env_id=DEFAULT_ENV, observation_dim=None, num_actions=None, latent_dim=8,
                 information_constraint=0.5, beta_step=1e-5, initial_beta=0.1, **kwargs):
        for name, value in (("information_constraint", information_constraint), ("beta_step", beta_step),
                            ("initial_beta", initial_beta)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0; got {value!r}")
        if int(latent_dim) != latent_dim or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1; got {latent_dim!r}")
        self.latent_dim = int(latent_dim)
        self.information_constraint, self.beta_step = float(information_constraint), float(beta_step)
        self.initial_beta = float(initial_beta)
        super().__init__(env_id, observation_dim, num_actions, **kwargs)
        # The Lagrange multiplier: state that saves and resumes, stepped by dual ascent, not by an optimizer.
        self.beta = self.add_weight(name="beta", shape=(), initializer=keras.initializers.Constant(initial_beta),
                                    trainable=False, aggregation="only_first_replica")

    def get_config(self):
        """VAIL's own arguments (`ZooModel.get_config`) and GAIL's, which reach GAIL through **kwargs."""
        config = super().get_config()
        for name in inspect.signature(GAIL.__init__).parameters:
            if name not in ("self", "kwargs"):
                config.setdefault(name, getattr(self, name))
        return config

    def _build_discriminator(self):
        self.encoder = nets.vector_mlp(self.observation_dim + self.num_actions, self.discriminator_hidden,
                                       2 * self.latent_dim, name="d_encoder")
        self.discriminator = nets.dense_head(1, self.latent_dim, "d_discriminator")

    def discriminator_layers(self):
        return [self.encoder, self.discriminator]

    def encoding(self, observations, actions, training=False):
        """(mu, log sigma^2) of E(z|s, a)."""
        return split_gaussian(self.encoder(self.pairs(observations, actions), training=training))

    def logits_and_kl(self, observations, actions, training=False):
        """logit D(z) of a sample z ~ E(z|s, a), and KL(E(z|s, a) || N(0, I)), per pair."""
        mean, log_var = self.encoding(observations, actions, training)
        z = reparameterize(mean, log_var, self.normal(ops.shape(mean)))
        return ops.squeeze(self.discriminator(z, training=training), -1), losses.gaussian_kl(mean, log_var)

    def discriminator_logits(self, observations, actions, training=False):
        return self.logits_and_kl(observations, actions, training)[0]

    def reward_logits(self, observations, actions):
        mean, _ = self.encoding(observations, actions)
        return ops.squeeze(self.discriminator(mean), -1)

    def discriminator_loss(self, policy_observations, policy_actions, expert_observations, expert_actions):
        policy_logits, policy_kl = self.logits_and_kl(policy_observations, policy_actions, training=True)
        expert_logits, expert_kl = self.logits_and_kl(expert_observations, expert_actions, training=True)
        gan_loss = losses.real_logit_loss(policy_logits) + losses.fake_logit_loss(expert_logits)
        kl = 0.5 * (ops.mean(policy_kl) + ops.mean(expert_kl))  # E over p~, half expert, half policy
        loss = gan_loss + ops.stop_gradient(self.beta) * (kl - self.information_constraint)
        return loss, {"d_loss": gan_loss, "d_accuracy": _accuracy(policy_logits, expert_logits), "kl": kl}

    def after_discriminator_step(self, logs):
        self.beta.assign(losses.bottleneck_multiplier(self.beta, logs["kl"], self.information_constraint,
                                                      self.beta_step))
        return {"beta": self.beta}


@register("bc")
class BehavioralCloning(ImitationModel):
    """Behavioural cloning: the policy fitted to the expert's (s, a) pairs by maximum likelihood.

    Pomerleau 1991 (ALVINN); the baseline of Ho & Ermon 2016 (Sec. 6). Minimises -E_{pi_E} log pi(a|s) by
    Adam on minibatches of the expert's pairs drawn at random, `steps` of them; the same policy net as
    `gail`'s. It never acts in the environment while learning.

    Args:
        env_id, observation_dim, num_actions, hidden: as `gail`'s.
        learning_rate: Adam's.
        minibatch_size: pairs a step.
        seed: seed of the minibatches' draws.

    Example:
        >>> model = zoo.load("bc")
        >>> model.train(expert_trajectories("CartPole-v1", episodes=4), steps=1000)
        >>> model.policy_returns(episodes=5)
    """

    roles = ("pi",)
    log_names = ("loss", "action_accuracy")

    def __init__(self, env_id=DEFAULT_ENV, observation_dim=None, num_actions=None, hidden=(64, 64),
                 learning_rate=1e-3, minibatch_size=64, seed=None, **kwargs):
        self._init_policy(env_id, observation_dim, num_actions, hidden, seed, kwargs)
        self.learning_rate, self.minibatch_size = float(learning_rate), int(minibatch_size)
        self._finish_build()

    def role_layers(self):
        return {"pi": [self.policy]}

    def default_optimizers(self):
        return {"pi": keras.optimizers.Adam(self.learning_rate)}

    def cloning_loss(self, observations, actions):
        logits = self.policy(observations, training=True)
        hits = ops.cast(ops.argmax(logits, axis=-1), "int32") == ops.cast(actions, "int32")
        loss = losses.cross_entropy(actions, logits)
        return loss, {"loss": loss, "action_accuracy": ops.mean(ops.cast(hits, "float32"))}

    def _cloning_step(self, observations, actions):
        return self.minimize("pi", lambda: self.cloning_loss(observations, actions))[1]

    def train(self, expert, steps=1000, callback=None, verbose=0):
        """`steps` Adam steps on the expert's pairs; returns the history (logs per 100 steps)."""
        self._check_expert(expert)
        rng = self._training_rng()
        step, history = self.graph_step(self._cloning_step), {}
        self._start_logs()
        for i in range(int(steps)):
            rows = rng.integers(len(expert.actions), size=self.minibatch_size)
            self._log(step(expert.observations[rows], expert.actions[rows]))
            if (i + 1) % 100 == 0 or i + 1 == steps:
                logs = self._logged()
                for name, value in logs.items():
                    history.setdefault(name, []).append(value)
                if callback is not None:
                    callback(i, logs)
                if verbose:
                    print(f"step {i + 1}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
                self._start_logs()
        return history


def _accuracy(policy_logits, expert_logits):
    """D's accuracy: the policy's pairs called the policy's (logit > 0), the expert's the expert's."""
    return 0.5 * (ops.mean(ops.cast(policy_logits > 0, "float32")) + ops.mean(ops.cast(expert_logits < 0, "float32")))


def _minibatches(n, size, rng):
    """A fresh permutation of range(n) in minibatches of `size` (the last one shorter)."""
    order = rng.permutation(n)
    return [order[i:i + size] for i in range(0, n, size)]
