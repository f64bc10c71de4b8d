// The agent: an OpenAI-compatible model driving file and shell tools confined to one directory.
export { runAgent, DEFAULT_MAX_STEPS, type AgentPart, type AgentResult, type HistoryMessage, type RunAgentOptions } from './agent.js';
export { runLocalCommand, type CommandResult, type RunCommand, type RunCommandOptions } from './command.js';
export {
  resolveProviderSettings,
  ENV_MODEL_URL,
  ENV_MODEL,
  ENV_MODEL_API_KEY,
  type ProviderConfig,
  type ProviderDescription,
  type ProviderSettings,
} from './provider.js';
export { createTools, createToolHandlers, isToolFailure, type ToolFailure, type ToolOptions } from './tools.js';
