return await Ray.Worker.WorkerHost.RunAsync(args);
