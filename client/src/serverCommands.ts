// The extension's command for each command the server's code lenses name: VS Code runs its
// own (progress notification, status bar, Training view) instead of the server's plain one.

import { SERVER_COMMANDS, type ServerCommand } from '../../server/src/protocol.js';

export const CLIENT_COMMAND_FOR: Readonly<Record<ServerCommand, string>> = {
  [SERVER_COMMANDS.train]: 'nn.train',
  [SERVER_COMMANDS.probe]: 'nn.probeGradients',
  [SERVER_COMMANDS.gradcheck]: 'nn.gradcheck',
  [SERVER_COMMANDS.exportOnnx]: 'nn.exportOnnx',
};
